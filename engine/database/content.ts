/**
 * Attachment content travels and persists as base64 text so that every record stays plain JSON;
 * callers give and get bytes (Uint8Array) or text (encoded as UTF-8).
 */

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** contentBytes turns attachment content given as text (UTF-8) or bytes into a private copy. */
export function contentBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content.slice();
}

/** encodeBase64 writes bytes as standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let text = "";
  for (let index = 0; index < bytes.length; index += 3) {
    const a = bytes[index] ?? 0;
    const b = bytes[index + 1] ?? 0;
    const c = bytes[index + 2] ?? 0;
    const triple = (a << 16) | (b << 8) | c;
    text += alphabet[(triple >> 18) & 63]! + alphabet[(triple >> 12) & 63]!;
    text += index + 1 < bytes.length ? alphabet[(triple >> 6) & 63]! : "=";
    text += index + 2 < bytes.length ? alphabet[triple & 63]! : "=";
  }
  return text;
}

/** decodeBase64 reads what encodeBase64 wrote. */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "");
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let out = 0;
  for (const char of clean) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new RangeError(`invalid base64 character "${char}"`);
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (buffer >> bits) & 0xff;
    }
  }
  return bytes;
}

/**
 * contentHash names content by its bytes (64-bit FNV-1a, hex). Equal content has equal hashes on
 * every instance, which is what lets a document's metadata point at attachment content. It is
 * not cryptographic: Rookery never has to defend against crafted collisions.
 */
export function contentHash(bytes: Uint8Array): string {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (const byte of bytes) {
    low = (low ^ byte) >>> 0;
    // Multiply the 64-bit (high, low) by the FNV prime 0x100000001b3 in 32-bit halves.
    const lowTimesPrime = low * 0x1b3;
    const carry = Math.floor(lowTimesPrime / 0x100000000);
    high = (Math.imul(high, 0x1b3) + Math.imul(low, 0x100) + carry) >>> 0;
    low = lowTimesPrime >>> 0;
  }
  return high.toString(16).padStart(8, "0") + low.toString(16).padStart(8, "0");
}
