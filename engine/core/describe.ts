/**
 * describe() renders a value as one readable line, for logs, failing tests and the book's
 * timeline. Type-tagged messages render as `type from→to key=value …`; other objects as
 * `key=value` pairs. Layers that know a type better register a renderer for its tag.
 */
export type Renderer = (value: Readonly<Record<string, unknown>>) => string;

const renderers = new Map<string, Renderer>();

/** registerRenderer makes describe() use `render` for every value whose `type` is `type`. */
export function registerRenderer(type: string, render: Renderer): void {
  renderers.set(type, render);
}

const lineLengthMax = 240;

/** describe renders `value` as a single line of at most a few hundred characters. */
export function describe(value: unknown): string {
  const line = describeValue(value, 0);
  return line.length > lineLengthMax ? line.slice(0, lineLengthMax - 1) + "…" : line;
}

function describeValue(value: unknown, depth: number): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return depth === 0 ? value : JSON.stringify(shorten(value));
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) {
    if (depth > 1) return `[${value.length}]`;
    const shown = value.slice(0, 5).map((item) => describeValue(item, depth + 1));
    return `[${shown.join(", ")}${value.length > 5 ? `, … ${value.length - 5} more` : ""}]`;
  }
  const record = value as Record<string, unknown>;
  const type = typeof record.type === "string" ? record.type : undefined;
  const renderer = type === undefined ? undefined : renderers.get(type);
  if (renderer) return renderer(record);
  if (depth > 1) return "{…}";
  const head: string[] = [];
  if (type !== undefined) head.push(type);
  if (typeof record.from === "string" && typeof record.to === "string") {
    head.push(`${record.from}→${record.to}`);
  }
  const fields = Object.entries(record)
    .filter(([key, field]) => !["type", "from", "to"].includes(key) && field !== undefined)
    .map(([key, field]) => `${key}=${describeValue(field, depth + 1)}`);
  return [...head, ...fields].join(" ");
}

function shorten(text: string): string {
  return text.length > 40 ? text.slice(0, 39) + "…" : text;
}
