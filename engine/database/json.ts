import { RookeryError } from "../core/index.ts";

/** JsonValue is any value a document body may hold: what JSON.parse can return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** JsonObject is a JSON object; document bodies are always objects. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * validateJsonObject checks that `value` is a plain JSON object (no undefined, functions, NaN,
 * Dates, Maps, cycles) no deeper than `depthMax`, and returns a private deep copy of it, so the
 * caller can keep mutating its own object without changing what was stored.
 */
export function validateJsonObject(value: unknown, what: string, depthMax: number): JsonObject {
  checkJsonObject(value, what, depthMax);
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

/** checkJsonObject is validateJsonObject without the copy: it only checks `value`. */
export function checkJsonObject(
  value: unknown,
  what: string,
  depthMax: number,
): asserts value is JsonObject {
  if (!isPlainObject(value)) {
    throw new RookeryError(
      "InvalidDocumentBody",
      `${what} must be a JSON object, got ${kindOf(value)}; ` +
        "wrap values in an object like { value }",
    );
  }
  // The quick walk builds no paths; only a value it refuses is walked again to say where.
  if (!isJson(value, 0, depthMax, [])) checkJson(value, what, "$", 0, depthMax);
}

/** isJson is checkJson's verdict without paths or messages (ancestors kept as a small stack). */
function isJson(value: unknown, depth: number, depthMax: number, ancestors: object[]): boolean {
  if (depth > depthMax) return false;
  if (value === null) return true;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      break;
    default:
      return false;
  }
  if (ancestors.includes(value)) return false;
  ancestors.push(value);
  let ok = true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length && ok; index++)
      ok = isJson(value[index], depth + 1, depthMax, ancestors);
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (!ok) break;
      ok = isJson(value[key], depth + 1, depthMax, ancestors);
    }
  } else {
    ok = false;
  }
  ancestors.pop();
  return ok;
}

function checkJson(
  value: unknown,
  what: string,
  path: string,
  depth: number,
  depthMax: number,
): void {
  if (depth > depthMax) {
    throw new RookeryError(
      "InvalidDocumentBody",
      `${what} nests deeper than ${depthMax} at ${path}`,
    );
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return;
    throw invalid(what, path, `${value} is not a finite number`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkJson(item, what, `${path}[${index}]`, depth + 1, depthMax));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, field] of Object.entries(value)) {
      checkJson(field, what, `${path}.${key}`, depth + 1, depthMax);
    }
    return;
  }
  throw invalid(what, path, `${kindOf(value)} is not a JSON value`);
}

function invalid(what: string, path: string, why: string): RookeryError {
  return new RookeryError("InvalidDocumentBody", `${what} at ${path}: ${why}`, { path });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return `a ${typeof value}`;
}

/**
 * canonicalJson renders a value with object keys sorted, so two instances that hold the same
 * content in a different key order compare (and break ties) the same way.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  const fields = keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] ?? null)}`);
  return `{${fields.join(",")}}`;
}
