/**
 * quote shows text that came from outside (a name, an id, a URL) inside a message: in double
 * quotes, with every character a terminal would not print visibly escaped as \uXXXX, so a NUL is
 * `\u0000` instead of nothing, and a line break or a right-to-left override cannot disguise the
 * message around it.
 */
export function quote(text: string): string {
  return `"${escapeInvisible(text).replace(/"/g, '\\"')}"`;
}

/**
 * escapeInvisible writes control characters (C0, DEL, C1), line and paragraph separators, bidi
 * controls, the byte order mark and lone surrogates as \uXXXX; everything else stays as it is.
 * A backslash is doubled, so the escaped text reads back unambiguously.
 */
export function escapeInvisible(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}
