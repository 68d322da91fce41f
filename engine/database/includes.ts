import type { JsonObject, JsonValue } from "./json.ts";

/**
 * includedIds follows one include path through a document body and returns the ids it finds, as
 * RavenDB's includes read paths: fields joined by ".", a "[]" after a field (or any array met on
 * the way) walks every element. "Employee" finds { Employee: "employees/1" }; "Lines[].Product"
 * finds every line's Product. Values that are not strings are not ids and are skipped.
 */
export function includedIds(body: JsonObject, path: string): string[] {
  const ids: string[] = [];
  const fields = path
    .split(".")
    .map((field) => field.replace(/\[\]$/, "").trim())
    .filter((field) => field !== "");
  const walk = (value: JsonValue | undefined, depth: number): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const element of value) walk(element, depth);
      return;
    }
    if (depth === fields.length) {
      if (typeof value === "string" && value !== "") ids.push(value);
      return;
    }
    if (typeof value === "object") walk(value[fields[depth]!], depth + 1);
  };
  if (fields.length > 0) walk(body, 0);
  return ids;
}
