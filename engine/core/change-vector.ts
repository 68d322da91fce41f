import { assert } from "./assert.ts";
import { RookeryError } from "./errors.ts";
import { quote } from "./quote.ts";
import { compareNodeTags, isNodeTag, type NodeTag } from "./tags.ts";

/**
 * ChangeVectorEntry is one `TAG:etag-databaseId` part of a change vector: the newest etag of the
 * database instance `databaseId` (hosted on node `tag`) that a version has seen. Identity is the
 * database id, not the tag: a database recreated on the same node gets a new id and a new entry.
 */
export interface ChangeVectorEntry {
  readonly tag: NodeTag;
  readonly etag: number;
  readonly databaseId: string;
}

/**
 * ChangeVector is a parsed change vector. Entries are kept in one canonical order (tag, then
 * database id) so that two instances that merged the same vectors print the same text.
 */
export type ChangeVector = readonly ChangeVectorEntry[];

/** ChangeVectorInput is a change vector in either form; text is parsed on the way in. */
export type ChangeVectorInput = ChangeVector | string;

/**
 * ChangeVectorOrder says what `incoming` means to a holder of `current`:
 * - "equal": the same etag for every database id;
 * - "already-merged": `current` has seen everything `incoming` has (current ≥ incoming);
 * - "update": `incoming` is strictly newer (current < incoming) and should replace `current`;
 * - "conflict": each has seen something the other has not (concurrent writes).
 */
export type ChangeVectorOrder = "equal" | "already-merged" | "update" | "conflict";

const entryPattern = /^([A-Z]+):(\d+)-([A-Za-z0-9+/=_-]+)$/;

/**
 * parseChangeVector reads the text form (`"A:12-dbidA, B:3-dbidB"`; the empty string is the
 * empty vector). Malformed text is input from outside, so it gets a RookeryError that quotes it.
 */
export function parseChangeVector(text: string): ChangeVector {
  const cached = parsedVectors.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(text);
  if (parsedVectors.size >= parsedVectorsMax) parsedVectors.clear();
  parsedVectors.set(text, parsed);
  return parsed;
}

/**
 * Parsed vectors by text. Every write parses the instance's vector and the versions it compares
 * or merges, mostly the same few texts again; parsing is pure, so a small memo is safe (the
 * parsed form is readonly, so sharing it is too). Cleared when full rather than evicted one by one.
 */
const parsedVectors = new Map<string, ChangeVector>();
const parsedVectorsMax = 4096;

function parseUncached(text: string): ChangeVector {
  const canonical = parseCanonical(text);
  if (canonical !== undefined) return canonical;
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const entries = trimmed.split(",").map((part) => parseEntry(part.trim(), text));
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.databaseId)) {
      throw malformed(text, `database id "${entry.databaseId}" appears twice`);
    }
    seen.add(entry.databaseId);
  }
  return sortEntries(entries);
}

/**
 * parseCanonical reads text already in canonical form (what formatChangeVector prints: entries
 * in order, ", " between them, no leading zeros) with a plain scan; every change vector the
 * engine makes is such text. Anything else, including every malformed text, returns undefined
 * and goes the general way, which says what is wrong.
 */
function parseCanonical(text: string): ChangeVector | undefined {
  const entries: ChangeVectorEntry[] = [];
  let at = 0;
  while (at < text.length) {
    if (entries.length > 0) {
      if (text.charCodeAt(at) !== comma || text.charCodeAt(at + 1) !== space) return undefined;
      at += 2;
    }
    const tagStart = at;
    while (isUpper(text.charCodeAt(at))) at++;
    if (at === tagStart || text.charCodeAt(at) !== colon) return undefined;
    const tag = text.slice(tagStart, at);
    const etagStart = ++at;
    // A leading zero is not canonical (and a lone 0 is not an etag).
    if (text.charCodeAt(at) === zero) return undefined;
    while (isDigit(text.charCodeAt(at))) at++;
    if (at === etagStart || text.charCodeAt(at) !== dash) return undefined;
    const etag = Number(text.slice(etagStart, at));
    const idStart = ++at;
    while (isDatabaseIdChar(text.charCodeAt(at))) at++;
    if (at === idStart || !isNodeTag(tag) || !Number.isSafeInteger(etag)) return undefined;
    const entry = { tag, etag, databaseId: text.slice(idStart, at) };
    const previous = entries[entries.length - 1];
    if (previous !== undefined && compareEntries(previous, entry) >= 0) return undefined;
    if (entries.some((known) => known.databaseId === entry.databaseId)) return undefined;
    entries.push(entry);
  }
  return entries.length > 0 ? entries : undefined;
}

const comma = 44;
const space = 32;
const colon = 58;
const dash = 45;
const zero = 48;

function isUpper(code: number): boolean {
  return code >= 65 && code <= 90;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** isDatabaseIdChar matches the database id characters of `entryPattern`: base64 and "_-". */
function isDatabaseIdChar(code: number): boolean {
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    code === 43 || // +
    code === 47 || // /
    code === 61 || // =
    code === 95 || // _
    code === 45 // -
  );
}

function parseEntry(part: string, text: string): ChangeVectorEntry {
  // A vector of one entry is named once, as "it"; in a longer one the entry is quoted.
  const which = part === text.trim() ? "it" : `the entry ${quote(part)}`;
  const match = entryPattern.exec(part);
  if (!match) throw malformed(text, `${which} is not of the form TAG:etag-databaseId`);
  const [, tag, etagText, databaseId] = match;
  assert(tag !== undefined && etagText !== undefined && databaseId !== undefined, "regex groups");
  if (!isNodeTag(tag)) throw malformed(text, `${quote(tag)} is not a node tag (A..Z, ZA, ZB …)`);
  const etag = Number(etagText);
  if (!Number.isSafeInteger(etag) || etag < 1) {
    throw malformed(text, `etag ${quote(etagText)} must be a positive integer`);
  }
  return { tag, etag, databaseId };
}

function malformed(text: string, why: string): RookeryError {
  return new RookeryError(
    "InvalidChangeVector",
    `invalid change vector ${quote(text)}: ${why}; expected entries like "A:12-dbid" separated by ", "`,
    { changeVector: text },
  );
}

/** formatChangeVector writes the canonical text form, entries separated by ", ". */
export function formatChangeVector(vector: ChangeVectorInput): string {
  return toVector(vector)
    .map((entry) => `${entry.tag}:${entry.etag}-${entry.databaseId}`)
    .join(", ");
}

/** changeVectorEtag returns the etag recorded for `databaseId`, or 0 when there is none. */
export function changeVectorEtag(vector: ChangeVectorInput, databaseId: string): number {
  return toVector(vector).find((entry) => entry.databaseId === databaseId)?.etag ?? 0;
}

/**
 * compareChangeVectors compares per database id, a missing entry counting as 0 (RavenDB's
 * GetConflictStatus with the arguments named for what they are to the caller).
 */
export function compareChangeVectors(
  current: ChangeVectorInput,
  incoming: ChangeVectorInput,
): ChangeVectorOrder {
  const left = toVector(current);
  const right = toVector(incoming);
  let currentAhead = false;
  let incomingAhead = false;
  // Database ids are unique within a vector, so walking each side once covers their union; an
  // entry missing on the other side counts as 0, and every etag is at least 1.
  for (const entry of left) {
    const incomingEtag = etagOf(right, entry.databaseId);
    if (entry.etag > incomingEtag) currentAhead = true;
    else if (incomingEtag > entry.etag) incomingAhead = true;
  }
  for (const entry of right) {
    if (etagOf(left, entry.databaseId) === 0) incomingAhead = true;
  }
  if (currentAhead && incomingAhead) return "conflict";
  if (incomingAhead) return "update";
  if (currentAhead) return "already-merged";
  return "equal";
}

/**
 * mergeChangeVectors keeps the largest etag per database id. Every conflict resolution and every
 * replicated write merges into the database's own vector, so nothing seen is ever forgotten.
 */
export function mergeChangeVectors(...vectors: readonly ChangeVectorInput[]): ChangeVector {
  const byDatabase = new Map<string, ChangeVectorEntry>();
  for (const vector of vectors) {
    for (const entry of toVector(vector)) {
      const known = byDatabase.get(entry.databaseId);
      if (known === undefined || entry.etag > known.etag) byDatabase.set(entry.databaseId, entry);
    }
  }
  return sortEntries([...byDatabase.values()]);
}

/**
 * mergeChangeVectorPair is mergeChangeVectors(current, incoming) that returns one of its
 * arguments itself when the merge equals it: `current` when it has seen everything `incoming`
 * has, `incoming` when it holds every entry of `current` at an etag as high or higher. So a caller
 * can tell "nothing changed" by identity, and reuse the text it already has for `incoming`.
 */
export function mergeChangeVectorPair(current: ChangeVector, incoming: ChangeVector): ChangeVector {
  if (incoming.every((entry) => etagOf(current, entry.databaseId) >= entry.etag)) return current;
  // An equal etag keeps current's entry, so incoming stands for the merge only if the tags match.
  const covers = current.every((entry) => {
    const other = incoming.find((candidate) => candidate.databaseId === entry.databaseId);
    return other !== undefined && other.tag === entry.tag && other.etag >= entry.etag;
  });
  return covers ? incoming : mergeChangeVectors(current, incoming);
}

/**
 * bumpChangeVector sets this instance's own entry to `etag`, the etag of a local write. The etag
 * sequence of an instance only grows, so going back is a bug, not bad input.
 */
export function bumpChangeVector(
  vector: ChangeVectorInput,
  tag: NodeTag,
  databaseId: string,
  etag: number,
): ChangeVector {
  const parsed = toVector(vector);
  assert(isNodeTag(tag), () => `bump with an invalid node tag "${tag}"`);
  assert(Number.isSafeInteger(etag) && etag >= 1, () => `bump with an invalid etag ${etag}`);
  const previous = changeVectorEtag(parsed, databaseId);
  assert(etag >= previous, () => `bump of ${databaseId} would go back from ${previous} to ${etag}`);
  const others = parsed.filter((entry) => entry.databaseId !== databaseId);
  return sortEntries([...others, { tag, etag, databaseId }]);
}

function toVector(vector: ChangeVectorInput): ChangeVector {
  return typeof vector === "string" ? parseChangeVector(vector) : vector;
}

/** etagOf is changeVectorEtag on a parsed vector, as a plain loop for the hot paths. */
function etagOf(vector: ChangeVector, databaseId: string): number {
  for (const entry of vector) if (entry.databaseId === databaseId) return entry.etag;
  return 0;
}

function sortEntries(entries: ChangeVectorEntry[]): ChangeVector {
  return entries.sort(compareEntries);
}

/** compareEntries is the canonical order: tag, then database id. */
function compareEntries(a: ChangeVectorEntry, b: ChangeVectorEntry): number {
  return (
    compareNodeTags(a.tag, b.tag) ||
    (a.databaseId < b.databaseId ? -1 : a.databaseId > b.databaseId ? 1 : 0)
  );
}
