/**
 * The one encoding every backend shares: a batch is checked and each value becomes a JSON string
 * before any backend sees it, so a value reads back the same from memory, fs and IndexedDB, and
 * a bad value fails the same way everywhere (at `write`, with the path of the bad part).
 *
 * Uint8Array and objects that happen to use the escape key are wrapped in a tagged object under
 * the key "\u0000", which plain JSON data almost never contains; when it does, the object is
 * wrapped too, so the encoding is total and lossless.
 */
import { RookeryError } from "../core/index.ts";
import { storeNamePattern } from "./storage.ts";
import type { StorageContents, StorageLimits } from "./storage.ts";

/** EncodedOperation is one checked operation; `json` is null for a delete. */
export interface EncodedOperation {
  readonly store: string;
  readonly key: string;
  readonly json: string | null;
}

/**
 * EncodedBatch is a checked batch and its size. No payload text is built: the fs backend encodes
 * each operation's strings straight into its write buffer and the other backends store the
 * operations one by one, so joining them into one string would only copy every byte once more.
 */
export interface EncodedBatch {
  readonly operations: readonly EncodedOperation[];
  /**
   * The batch's encoded size in UTF-16 units: store names, keys, value JSON and the framing the fs
   * log adds per operation. The queue and group limits count it; for ASCII data it is within a
   * byte per operation of the fs record's payload size.
   */
  readonly chars: number;
}

/**
 * Characters the fs log adds around one operation (`["`, `","`, `",`, `]` and the `,\n` between
 * operations), and around a whole batch (`[\n`, `\n]`); see fs-format.ts.
 */
export const operationFramingChars = 10;
export const batchFramingChars = 4;

const escapeKey = "\u0000";

/**
 * encodeBatch checks every operation of `batch` against `limits` and encodes it, or throws a
 * RookeryError saying which operation is wrong and why.
 */
export function encodeBatch(batch: readonly unknown[], limits: StorageLimits): EncodedBatch {
  if (!Array.isArray(batch)) {
    throw new RookeryError("InvalidStorageBatch", "a storage batch must be an array of operations");
  }
  if (batch.length > limits.batchOperationsMax) {
    throw new RookeryError(
      "StorageBatchTooLarge",
      `a storage batch holds ${batch.length} operations, more than batchOperationsMax ` +
        `(${limits.batchOperationsMax}); split it into smaller transactions`,
      { operations: batch.length, batchOperationsMax: limits.batchOperationsMax },
    );
  }
  const operations: EncodedOperation[] = new Array<EncodedOperation>(batch.length);
  let chars = batchFramingChars;
  for (let index = 0; index < batch.length; index++) {
    const encoded = encodeOperation(batch[index], index, limits);
    operations[index] = encoded;
    chars += encoded.store.length + encoded.key.length + operationFramingChars;
    if (encoded.json !== null) chars += encoded.json.length;
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so only a batch near the limit is measured.
  const bytes = chars * 3 > limits.batchBytesMax ? encodedBytes(operations) : 0;
  if (bytes > limits.batchBytesMax) {
    throw new RookeryError(
      "StorageBatchTooLarge",
      `a storage batch encodes to ${bytes} bytes, more than batchBytesMax ` +
        `(${limits.batchBytesMax}); split it into smaller transactions or store large content ` +
        "in pieces",
      { bytes, batchBytesMax: limits.batchBytesMax },
    );
  }
  return { operations, chars };
}

/** encodedBytes is the UTF-8 size of a batch as the fs log frames it. */
function encodedBytes(operations: readonly EncodedOperation[]): number {
  let bytes = batchFramingChars;
  for (const { store, key, json } of operations) {
    bytes += store.length + utf8Bytes(key) + operationFramingChars;
    if (json !== null) bytes += utf8Bytes(json);
  }
  return bytes;
}

/** utf8Bytes counts the UTF-8 bytes of `text` without encoding it (a lone surrogate counts 3). */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    const next = index + 1 < text.length ? text.charCodeAt(index + 1) : 0;
    // A surrogate pair is 2 units and 4 bytes; a lone surrogate becomes U+FFFD, 3 bytes.
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index++;
    bytes += 2;
  }
  return bytes;
}

/** The store name the last operation passed the pattern with. */
let lastStoreName: string | null = null;

function encodeOperation(
  operation: unknown,
  index: number,
  limits: StorageLimits,
): EncodedOperation {
  if (typeof operation !== "object" || operation === null) {
    throw invalidBatch(index, "is not an object like { store, op, key, value }");
  }
  const { store, op, key } = operation as Record<string, unknown>;
  if (typeof store !== "string" || (store !== lastStoreName && !storeNamePattern.test(store))) {
    throw new RookeryError(
      "InvalidStoreName",
      `operation ${index}: store ${JSON.stringify(store)} is not a store name; use lower-case ` +
        `letters, digits and dashes, like "documents" or "raft-log" (pattern ${storeNamePattern})`,
      { index, store },
    );
  }
  // A batch nearly always names one store many times: test the pattern once per run of it.
  lastStoreName = store;
  if (typeof key !== "string" || key.length > limits.keyCharsMax) {
    throw new RookeryError(
      "InvalidStorageKey",
      typeof key !== "string"
        ? `operation ${index} on "${store}": the key must be a string, got ${kindOf(key)}`
        : `operation ${index} on "${store}": the key is ${key.length} characters, more than ` +
            `keyCharsMax (${limits.keyCharsMax})`,
      { index, store },
    );
  }
  if (op === "delete") return { store, key, json: null };
  if (op !== "put") {
    throw invalidBatch(index, `has op ${JSON.stringify(op)}; use "put" or "delete"`);
  }
  if (!("value" in operation)) throw invalidBatch(index, `puts "${store}/${key}" without a value`);
  const { value, json } = operation as { value: unknown; json?: unknown };
  // The caller's own JSON.stringify of a value it promises is plain (StorageOperation): trusted.
  if (typeof json === "string") return { store, key, json };
  if (json !== undefined) {
    throw invalidBatch(index, `puts "${store}/${key}" with a json that is not a string`);
  }
  return { store, key, json: encodeValue(value, `${store}/${key}`, limits.valueDepthMax) };
}

function invalidBatch(index: number, why: string): RookeryError {
  return new RookeryError("InvalidStorageBatch", `storage batch operation ${index} ${why}`, {
    index,
  });
}

/**
 * encodeValue checks `value` (see StorageValue) and returns its JSON text; `where` names it in
 * errors ("documents/users/1").
 */
export function encodeValue(value: unknown, where: string, depthMax: number): string {
  const verdict = quickCheck(value, 0, depthMax, []);
  if (verdict === quickPlain) return JSON.stringify(value);
  // Something special or wrong: the careful walk names the path of what is wrong, or says
  // whether the value needs the tagged encoding.
  const found = { special: false };
  checkValue(value, where, "$", 0, depthMax, found, new Set());
  return JSON.stringify(found.special ? toJsonable(value) : value);
}

const quickPlain = 0;
const quickOther = 1;

/**
 * quickCheck walks a value without building paths (its ancestors are a small stack): quickPlain
 * when it is plain JSON data (no Uint8Array, no escape key, nothing refused), quickOther when
 * checkValue must look (a special value or a bad one). Most values are plain, and for them this
 * is the whole check.
 */
function quickCheck(value: unknown, depth: number, depthMax: number, ancestors: object[]): number {
  if (value === null) return quickPlain;
  switch (typeof value) {
    case "string":
    case "boolean":
      return quickPlain;
    case "number":
      return Number.isFinite(value) ? quickPlain : quickOther;
    case "object":
      break;
    default:
      return quickOther;
  }
  if (depth >= depthMax || ancestors.includes(value)) return quickOther;
  ancestors.push(value);
  let verdict = quickPlain;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length && verdict === quickPlain; index++) {
      verdict =
        index in value ? quickCheck(value[index], depth + 1, depthMax, ancestors) : quickOther;
    }
  } else {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) verdict = quickOther;
    const object = value as Record<string, unknown>;
    for (const field in object) {
      if (verdict !== quickPlain) break;
      verdict =
        field === escapeKey
          ? quickOther
          : quickCheck(object[field], depth + 1, depthMax, ancestors);
    }
  }
  ancestors.pop();
  return verdict;
}

function checkValue(
  value: unknown,
  where: string,
  path: string,
  depth: number,
  depthMax: number,
  found: { special: boolean },
  ancestors: Set<object>,
): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return;
    throw invalidValue(where, path, `${value} is not a finite number`);
  }
  if (typeof value !== "object") {
    throw invalidValue(where, path, `${kindOf(value)} cannot be stored`);
  }
  if (depth >= depthMax) throw invalidValue(where, path, `the value nests deeper than ${depthMax}`);
  if (value instanceof Uint8Array) {
    if (value.constructor !== Uint8Array) {
      const why = `${kindOf(value)} cannot be stored; copy it into a Uint8Array`;
      throw invalidValue(where, path, why);
    }
    found.special = true;
    return;
  }
  // The ancestor set catches cycles; a value shared twice without a cycle is fine (it is copied).
  if (ancestors.has(value)) throw invalidValue(where, path, "the value contains a cycle");
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!(index in value)) {
        throw invalidValue(where, `${path}[${index}]`, "arrays cannot have holes");
      }
      checkValue(value[index], where, `${path}[${index}]`, depth + 1, depthMax, found, ancestors);
    }
  } else if (isPlainObject(value)) {
    for (const field in value) {
      if (field === escapeKey) found.special = true;
      checkValue(value[field], where, `${path}.${field}`, depth + 1, depthMax, found, ancestors);
    }
  } else {
    throw invalidValue(where, path, `${kindOf(value)} cannot be stored; store plain objects`);
  }
  ancestors.delete(value);
}

function invalidValue(where: string, path: string, why: string): RookeryError {
  return new RookeryError(
    "InvalidStorageValue",
    `cannot store ${where}: at ${path}, ${why}. Storage keeps JSON-like values ` +
      "(plain objects, arrays, strings, finite numbers, booleans, null) and Uint8Array",
    { where, path },
  );
}

function toJsonable(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return { [escapeKey]: "u8", b: bytesToBase64(value) };
  if (Array.isArray(value)) return value.map(toJsonable);
  const out: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) out[field] = toJsonable(inner);
  return escapeKey in out ? { [escapeKey]: "o", v: out } : out;
}

/** decodeValue turns JSON text made by encodeValue back into the value. */
export function decodeValue(json: string): unknown {
  const parsed: unknown = JSON.parse(json);
  // JSON.stringify writes the escape key as the six characters \u0000; without them the text
  // holds no tagged objects and the parse is the value.
  return json.includes("\\u0000") ? fromJsonable(parsed) : parsed;
}

function fromJsonable(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(fromJsonable);
  const object = value as Record<string, unknown>;
  if (escapeKey in object) {
    const tag = object[escapeKey];
    if (tag === "u8" && typeof object["b"] === "string") return base64ToBytes(object["b"]);
    if (tag === "o" && typeof object["v"] === "object" && object["v"] !== null) {
      return mapFields(object["v"] as Record<string, unknown>);
    }
    throw new RookeryError(
      "StorageCorrupt",
      `a stored value has an unknown tag ${JSON.stringify(tag)}`,
    );
  }
  return mapFields(object);
}

function mapFields(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(object)) out[field] = fromJsonable(inner);
  return out;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let start = 0; start < bytes.length; start += chunk) {
    binary += String.fromCharCode(...bytes.subarray(start, start + chunk));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return `a ${typeof value}`;
}

/**
 * LiveState is the latest value of every key as encoded JSON, kept by the memory and fs
 * backends: it answers `load` without touching the disk and is what compaction writes out.
 * Strings rather than objects keep it compact and immune to callers mutating what they loaded.
 */
export class LiveState {
  private readonly stores = new Map<string, Map<string, string>>();
  private bytes = 0;

  /** apply runs a batch's operations in order. */
  apply(operations: readonly EncodedOperation[]): void {
    for (const { store, key, json } of operations) {
      let keys = this.stores.get(store);
      const previous = keys?.get(key);
      if (previous !== undefined) this.bytes -= previous.length + key.length;
      if (json === null) {
        if (keys?.delete(key) && keys.size === 0) this.stores.delete(store);
        continue;
      }
      if (!keys) this.stores.set(store, (keys = new Map()));
      keys.set(key, json);
      this.bytes += json.length + key.length;
    }
  }

  /** sizeChars approximates the live data's size (characters of keys and encoded values). */
  sizeChars(): number {
    return this.bytes;
  }

  /** entries lists every live key as an operation that would recreate it. */
  *entries(): Iterable<EncodedOperation> {
    for (const [store, keys] of this.stores) {
      for (const [key, json] of keys) yield { store, key, json };
    }
  }

  /** contents decodes everything into a fresh copy the caller owns. */
  contents<S extends object>(): StorageContents<S> {
    const out = new Map<string, Map<string, unknown>>();
    for (const store of this.stores.keys()) out.set(store, this.store(store));
    return out as StorageContents<S>;
  }

  /** get decodes one key's value, or returns undefined when the key is not there. */
  get(store: string, key: string): unknown {
    const json = this.stores.get(store)?.get(key);
    return json === undefined ? undefined : decodeValue(json);
  }

  /** store decodes one store into a fresh copy the caller owns. */
  store(store: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [key, json] of this.stores.get(store) ?? []) out.set(key, decodeValue(json));
    return out;
  }
}

/** closedError is what every call on a closed or crashed storage rejects with. */
export function closedError(what: string, verb: string): RookeryError {
  return new RookeryError(
    "StorageClosed",
    `cannot ${verb}: the storage ${what} is closed; open it again to continue`,
    { storage: what },
  );
}

/** checkStoreName throws unless `store` is a valid store name. */
export function checkStoreName(store: unknown): asserts store is string {
  if (typeof store !== "string" || !storeNamePattern.test(store)) {
    throw new RookeryError(
      "InvalidStoreName",
      `store ${JSON.stringify(store)} is not a store name; use lower-case letters, digits and ` +
        `dashes, like "documents" or "raft-log"`,
      { store },
    );
  }
}

/** overloaded is the error for a write that would grow the queue past queueBytesMax. */
/**
 * admitBatch is the front door of a queueing backend's write(): it refuses a write to a closed or
 * failed storage, encodes (and so validates) the batch, and refuses it when the bytes already
 * waiting to become durable would pass queueBytesMax. It throws; write() turns that into a rejection.
 */
export function admitBatch(
  refusal: RookeryError | null,
  batch: readonly unknown[],
  limits: StorageLimits,
  queuedBytes: number,
  what: string,
): EncodedBatch {
  if (refusal) throw refusal;
  const encoded = encodeBatch(batch, limits);
  if (queuedBytes + encoded.chars > limits.queueBytesMax)
    throw overloaded(what, limits.queueBytesMax);
  return encoded;
}

/**
 * takeGroup removes from the front of `queue` the writes one durability point will cover (one
 * fsync, one IndexedDB transaction): always the first, then as many as fit in `groupBytesMax`
 * encoded characters. It returns them and their size, which the caller takes off its queue count.
 */
export function takeGroup<J extends { readonly batch: EncodedBatch }>(
  queue: J[],
  groupBytesMax: number,
): { group: J[]; chars: number } {
  const group: J[] = [];
  let chars = 0;
  for (const job of queue) {
    if (group.length > 0 && chars + job.batch.chars > groupBytesMax) break;
    group.push(job);
    chars += job.batch.chars;
  }
  queue.splice(0, group.length);
  return { group, chars };
}

export function overloaded(what: string, queueBytesMax: number): RookeryError {
  return new RookeryError(
    "StorageOverloaded",
    `the storage ${what} already has ${queueBytesMax} bytes (queueBytesMax) waiting to become ` +
      "durable; wait for earlier writes to finish before writing more",
    { storage: what, queueBytesMax },
  );
}
