/**
 * What the boundary fuzzer sends: well-formed requests and peer messages as a real client or
 * server would, and mutations of them (a field dropped, a value of the wrong type, huge or deeply
 * nested values, unknown fields and types). Everything is drawn from a seeded Random, so a run is
 * replayed exactly from its seed.
 */
import type { Random } from "../../core/index.ts";

/** FuzzLimits bound the values the fuzzer makes (a huge string, a deep nesting). */
export const fuzzLimits = {
  /** Characters of a huge string (drawn up to this). */
  hugeStringCharsMax: 1 << 20,
  /** Items of a huge list. */
  hugeListItemsMax: 150_000,
  /** Nesting of a deep value; deeper ones cannot even be copied onto a real transport. */
  nestingDepthMax: 1_000,
} as const;

type Plain = Record<string, unknown>;

const databases = ["Spade", "Fuzz1", "Fuzz2", "Nowhere", "spade", ""];

/** deep nests `inner` in lists or objects, `depth` levels down. */
function deep(random: Random, depth: number, inner: unknown): unknown {
  const asList = random.chance(0.5);
  let value = inner;
  for (let k = 0; k < depth; k++) value = asList ? [value] : { a: value };
  return value;
}

/** strangeValue is any value at all, ordinary or odd: the stuff of wrong types. */
export function strangeValue(random: Random): unknown {
  switch (random.int(20)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return random.chance(0.5);
    case 3:
      return random.pick([0, -1, 1.5, -0, 2 ** 53, Number.MAX_VALUE, -Number.MAX_VALUE]);
    case 4:
      return random.pick([NaN, Infinity, -Infinity]);
    case 5:
      return random.pick(["", "x", "users/1", "A", "\u0000", "\uFEFFü€𝄞", " ", "../../etc"]);
    case 6:
      // Huge values are rare: each costs the whole run a copy on the way to the server.
      return "x".repeat(
        random.chance(0.1) ? random.between(1, fuzzLimits.hugeStringCharsMax) : random.int(300),
      );
    case 7:
      return [];
    case 8:
      return Array.from({ length: random.between(1, 5) }, () => random.pick([1, "a", null, {}]));
    case 9: {
      const huge = random.chance(0.1);
      const length = random.between(1, huge ? fuzzLimits.hugeListItemsMax : 100);
      return Array.from({ length }, (_, k) => (huge ? k : `item ${k}`));
    }
    case 10:
      return {};
    case 11:
      return { type: "batch", database: "Spade", nested: { deeper: [1, 2, { x: null }] } };
    case 12:
      return deep(random, random.between(2, fuzzLimits.nestingDepthMax), random.pick([1, "x"]));
    case 13:
      return JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1, "toString": 2}');
    case 14:
      return new Uint8Array(random.between(0, 64));
    case 15:
      return new Date(random.int(2 ** 40));
    case 16:
      return new Map([["type", "batch"]]);
    case 17:
      return BigInt(random.int(1000));
    case 18:
      return random.pick(["node-info", "batch", "raft", "replication", "forward", "request"]);
    default:
      return random.int(1_000_000);
  }
}

/** wrongFor is a value whose type differs from `value`'s, so a declared field no longer fits. */
export function wrongFor(random: Random, value: unknown): unknown {
  for (;;) {
    const candidate = strangeValue(random);
    if (candidate === undefined && random.chance(0.5)) continue;
    if (kindOf(candidate) !== kindOf(value)) return candidate;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? "count" : "n";
  return typeof value;
}

/** validRequest is a request a real client could send (some of which the server refuses). */
export function validRequest(random: Random, sequence: number): Plain {
  const database = random.pick(databases);
  const fuzzDatabase = random.pick(["Fuzz1", "Fuzz2", "Fuzz3"]);
  switch (random.int(16)) {
    case 0:
      return { type: "node-info" };
    case 1:
      return { type: "cluster-topology" };
    case 2:
      return { type: "database-topology", database };
    case 3:
      return { type: "database-status", database };
    case 4:
      return { type: "list-documents", database };
    case 5:
      return { type: "get-documents", database, ids: [`fuzz/${random.int(50)}`, "users/1"] };
    case 6:
      return { type: "add-node", url: random.pick(["http://127.0.0.9:8080", "127.0.0.1", "x"]) };
    case 7:
      return { type: "remove-node", tag: random.pick(["Z", "", "?"]) };
    case 8:
      return {
        type: "create-database",
        name: fuzzDatabase,
        replicationFactor: random.between(0, 4),
      };
    case 9:
      return { type: "delete-database", name: random.pick(["Fuzz3", "Nowhere"]) };
    case 10:
      return { type: "add-database-node", database: fuzzDatabase };
    case 11:
      return {
        type: "set-conflict-resolution",
        database: fuzzDatabase,
        resolution: random.pick(["latest", "none"]),
      };
    case 12:
      return {
        type: "set-revisions",
        database: fuzzDatabase,
        revisions: {
          default: { disabled: false, minimumRevisionsToKeep: random.int(5), purgeOnDelete: false },
          collections: {},
        },
      };
    case 13:
      return { type: "get-revisions", database, id: `fuzz/${random.int(50)}` };
    case 14:
      return { type: "get-attachment", database, id: `fuzz/${random.int(50)}`, name: "a.txt" };
    default:
      return validBatch(random, sequence);
  }
}

function validBatch(random: Random, sequence: number): Plain {
  const id = `fuzz/${random.int(50)}`;
  return {
    type: "batch",
    database: random.chance(0.8) ? "Spade" : random.pick(databases),
    transaction: {
      puts: [{ id, body: { n: sequence, tags: ["a", "b"], nested: { ok: true } } }],
      ...(random.chance(0.3) ? { deletes: [{ id: `fuzz/${random.int(50)}` }] } : {}),
      ...(random.chance(0.2)
        ? { attachmentPuts: [{ documentId: id, name: "a.txt", content: "hello" }] }
        : {}),
    },
    ...(random.chance(0.2) ? { writeAssurance: { replicas: 1, timeoutMs: 200 } } : {}),
  };
}

/** validPeerMessage is a message of the shape servers send each other. */
export function validPeerMessage(random: Random, request: Plain): Plain {
  const raft = { from: "B", to: "A", term: 1 };
  const ids = { fromServerId: "fuzz-b", toServerId: random.pick([null, "fuzz-a"]) };
  switch (random.int(9)) {
    case 0:
      return {
        type: "raft",
        topologyId: "fuzz",
        toTag: "A",
        ...ids,
        message: { ...raft, type: "vote", lastLogIndex: 1, lastLogTerm: 1 },
      };
    case 1:
      return {
        type: "raft",
        topologyId: "fuzz",
        toTag: "A",
        ...ids,
        message: {
          ...raft,
          type: "append",
          prevIndex: 0,
          prevTerm: 0,
          entries: [{ index: 1, term: 1, type: "command", data: "{}" }],
          commit: 0,
        },
      };
    case 2:
      return {
        type: "replication",
        message: {
          type: "replication-wire-batch",
          database: "Spade",
          from: "B",
          to: "A",
          sourceDatabaseId: "fuzz",
          afterEtag: 0,
          lastEtag: 1,
          transactions: [
            {
              transaction: 1,
              items: [
                {
                  kind: "document",
                  id: "fuzz/peer",
                  collection: "Fuzz",
                  changeVector: "B:1-fuzz",
                  lastModifiedMs: 0,
                  bodyJson: "{}",
                  attachments: [],
                  etag: 1,
                  transaction: 1,
                },
              ],
            },
          ],
        },
      };
    case 3:
      return {
        type: "replication",
        message: {
          type: "replication-ack",
          database: "Spade",
          from: "B",
          to: "A",
          sourceDatabaseId: "fuzz",
          lastAcceptedEtag: 1,
          changeVector: "B:1-fuzz",
          reason: "applied",
          answers: { afterEtag: 0, lastEtag: 1 },
        },
      };
    case 4:
      return { type: "forward", requestId: 1, request, description: "fuzz" };
    case 5:
      return {
        type: "forward-result",
        requestId: random.int(100),
        response: { ok: true, result: {} },
      };
    case 6:
      return { type: "node-info-request", requestId: random.int(100) };
    case 7:
      return {
        type: "node-info-result",
        requestId: random.int(100),
        tag: "B",
        topologyId: null,
        serverId: "fuzz-b",
      };
    default:
      return {
        type: "health-report",
        tag: "B",
        databases: { Spade: { lastEtag: 1, acceptedEtags: { A: 1 } } },
      };
  }
}

/** A field of a message: the object or list that holds it, and its key there. */
interface Slot {
  readonly holder: Plain | unknown[];
  readonly key: string | number;
}

function slots(value: unknown, found: Slot[] = [], depth = 0): Slot[] {
  if (depth > 6 || typeof value !== "object" || value === null) return found;
  if (Array.isArray(value)) {
    // A huge list offers its first few items; mutating the rest would test nothing new.
    for (let k = 0; k < Math.min(value.length, 8); k++) {
      found.push({ holder: value, key: k });
      slots(value[k], found, depth + 1);
    }
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value as Plain)) {
      found.push({ holder: value as Plain, key });
      slots(item, found, depth + 1);
    }
  }
  return found;
}

function read(slot: Slot): unknown {
  return (slot.holder as Record<string | number, unknown>)[slot.key];
}

function write(slot: Slot, value: unknown): void {
  (slot.holder as Record<string | number, unknown>)[slot.key] = value;
}

/**
 * mutate breaks a message in place: `breaking` mutations each leave a declared field missing or
 * of the wrong type; the others add unknown fields or nest it. Returns what was done, for replay.
 */
export function mutate(random: Random, message: Plain, breaking: number, other: number): string[] {
  const done: string[] = [];
  for (let k = 0; k < breaking; k++) {
    const places = slots(message);
    if (places.length === 0) break;
    const slot = random.pick(places);
    if (random.chance(0.3) && !Array.isArray(slot.holder)) {
      delete (slot.holder as Plain)[slot.key as string];
      done.push(`dropped ${String(slot.key)}`);
    } else {
      write(slot, wrongFor(random, read(slot)));
      done.push(`retyped ${String(slot.key)}`);
    }
  }
  for (let k = 0; k < other; k++) {
    const places = slots(message).filter((slot) => !Array.isArray(slot.holder));
    const holder = places.length > 0 ? random.pick(places).holder : message;
    (holder as Plain)[random.pick(["extra", "type", "__fuzz", "0"])] = strangeValue(random);
    done.push("added a field");
  }
  return done;
}

/**
 * spare keeps a request from doing what a client may do but would end the run's point: removing
 * a node of the cluster or deleting Spade are legitimate operations, not malformed ones, and the
 * run checks afterwards that every server still serves Spade.
 */
export function spare(request: unknown, tags: readonly string[]): void {
  if (typeof request !== "object" || request === null) return;
  const fields = request as Plain;
  if (fields["type"] === "remove-node" && tags.includes(fields["tag"] as string))
    fields["tag"] = "Z";
  const name = fields["name"];
  if (fields["type"] === "delete-database" && typeof name === "string")
    if (name.toLowerCase() === "spade") fields["name"] = "Fuzz3";
}
