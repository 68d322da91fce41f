import { quote, RookeryError } from "../core/index.ts";

/** emptyCollection is RavenDB's collection for documents whose id has no prefix. */
export const emptyCollection = "@empty";

/**
 * validateDocumentId refuses ids the instance could not store or find again. Ids ending in "/"
 * or "|" ask RavenDB to generate the id; that belongs to the client session, not here.
 */
export function validateDocumentId(id: unknown, lengthMax: number): string {
  if (typeof id !== "string") {
    throw invalidId(String(id), `an id must be a string, got ${typeof id}`);
  }
  if (id.length === 0) throw invalidId(id, "an id cannot be empty");
  if (id.trim().length === 0) throw invalidId(id, "an id cannot be only whitespace");
  if (id.length > lengthMax) {
    throw invalidId(
      id.slice(0, 40) + "…",
      `an id is at most ${lengthMax} characters, got ${id.length}`,
    );
  }
  // Control characters cannot be typed, printed or used in a URL; the storage keys use one of
  // them as a separator.
  if (/[\u0000-\u001f\u007f]/.test(id)) throw invalidId(id, "an id cannot hold control characters");
  if (id.endsWith("/") || id.endsWith("|")) {
    throw invalidId(id, "ids ending in '/' or '|' ask for a generated id; give the full id");
  }
  return id;
}

function invalidId(id: string, why: string): RookeryError {
  return new RookeryError("InvalidDocumentId", `invalid document id ${quote(id)}: ${why}`, { id });
}

/** documentKey is how ids are compared: case-insensitive, while the stored id keeps its case. */
export function documentKey(id: string): string {
  return id.toLowerCase();
}

/**
 * collectionFromId derives the collection the way the chapter's ids read: the prefix before the
 * first "/" with its first letter capitalised ("users/1" → "Users"); no prefix → "@empty".
 */
export function collectionFromId(id: string): string {
  const slash = id.indexOf("/");
  if (slash <= 0) return emptyCollection;
  const prefix = id.slice(0, slash);
  return prefix.charAt(0).toUpperCase() + prefix.slice(1);
}

/** validateAttachmentName refuses names that are empty, blank, too long or unprintable. */
export function validateAttachmentName(name: unknown, lengthMax: number): string {
  const invalid = (why: string): RookeryError =>
    new RookeryError(
      "InvalidAttachmentName",
      `invalid attachment name ${quote(String(name))}: ${why}`,
    );
  if (typeof name !== "string") throw invalid("a name must be a string");
  if (name.trim().length === 0) throw invalid("a name cannot be empty or only whitespace");
  if (name.length > lengthMax) throw invalid(`a name is at most ${lengthMax} characters`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid("a name cannot hold control characters");
  return name;
}
