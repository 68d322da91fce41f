import type { TopologyView } from "../transport/index.ts";

/**
 * TopologyCache keeps the last database topology a client saw, so a restarted client whose listed
 * URLs are all down can still find its database on nodes it was never told about (the C# client's
 * `.raven-database-topology` files). Keys come from topologyCacheKey. Implementations: memory here,
 * a file per key in Node (cache-fs.ts), IndexedDB in the browser (cache-indexeddb.ts).
 */
export interface TopologyCache {
  load(key: string): Promise<TopologyView | undefined>;
  save(key: string, topology: TopologyView): Promise<void>;
}

/**
 * topologyCacheKey names a cache entry by database and the URLs the store was given, like RavenDB's
 * `{database}.{hash of urls}`: two stores for the same database on different clusters never share.
 * The hash is FNV-1a (32 bits) over the sorted, lower-cased URLs: deterministic and needs no crypto.
 */
export function topologyCacheKey(database: string, urls: readonly string[]): string {
  const text = [...urls]
    .map((url) => url.toLowerCase().replace(/\/+$/, ""))
    .sort()
    .join("\n");
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${database.toLowerCase()}.${hash.toString(16).padStart(8, "0")}`;
}

/**
 * isTopologyView checks a value read back from a cache, since a file or an IndexedDB record may be
 * stale, hand-edited or written by another version.
 */
export function isTopologyView(value: unknown): value is TopologyView {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["database"] === "string" &&
    typeof v["etag"] === "number" &&
    Array.isArray(v["members"]) &&
    Array.isArray(v["nodes"]) &&
    (v["nodes"] as unknown[]).every((node) => {
      if (typeof node !== "object" || node === null) return false;
      const n = node as Record<string, unknown>;
      return (
        typeof n["tag"] === "string" &&
        typeof n["url"] === "string" &&
        typeof n["role"] === "string"
      );
    })
  );
}

/** MemoryTopologyCache keeps topologies in a Map: share one between stores to model a restart. */
export class MemoryTopologyCache implements TopologyCache {
  private readonly entries = new Map<string, TopologyView>();

  async load(key: string): Promise<TopologyView | undefined> {
    const entry = this.entries.get(key);
    return entry ? structuredClone(entry) : undefined;
  }

  async save(key: string, topology: TopologyView): Promise<void> {
    const kept = this.entries.get(key);
    // Like RavenDB, never overwrite a newer topology with an older one (two stores may race).
    if (kept && kept.etag > topology.etag) return;
    this.entries.set(key, structuredClone(topology));
  }

  /** keys lists what is cached (for tests and the playground). */
  keys(): string[] {
    return [...this.entries.keys()];
  }
}
