import type { NodeTag } from "../core/index.ts";
import type { HiloRange } from "../transport/index.ts";
import { RookeryError } from "../core/index.ts";
import { metaStore } from "./cluster-node.ts";
import type { ServerContext } from "./context.ts";

/** Ids one range holds (RavenDB starts at 32 and grows the range; a fixed one is enough here). */
const hiloRangeIds = 32;

type Stores = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

/**
 * HiloRanges hands out ranges of ids for clients that make their own (RavenDB's HiLo). Ranges are
 * this server's own — a client ends each id with the server's tag — so no other server is asked;
 * the top of a range is durable before the client hears of it, so a restart never hands a range
 * out twice.
 */
export class HiloRanges {
  /** The top of the last range handed out, by "database/collection" (lower case). */
  private readonly tops = new Map<string, number>();
  private kept: ReadonlyMap<string, unknown> = new Map();

  constructor(private readonly context: ServerContext) {}

  /** recover keeps the tops storage held at start. */
  recover(stores: Stores): void {
    this.kept = stores.get(metaStore) ?? new Map();
  }

  /** next hands out the range after both the last one and `lastMax`, the client's last top. */
  async next(
    database: string,
    collection: string,
    lastMax: number,
    serverTag: NodeTag,
  ): Promise<HiloRange> {
    if (!Number.isSafeInteger(lastMax) || lastMax < 0)
      throw new RookeryError(
        "InvalidRequest",
        `lastMax must be a whole number of at least 0, got ${String(lastMax)}`,
      );
    const key = `hilo/${database.toLowerCase()}/${collection.toLowerCase()}`;
    const top = this.tops.get(key) ?? this.kept.get(key);
    const low = Math.max(typeof top === "number" ? top : 0, lastMax) + 1;
    const range: HiloRange = { low, high: low + hiloRangeIds - 1, serverTag };
    this.tops.set(key, range.high);
    await this.context.writes.persistAsync([
      { store: metaStore, op: "put", key, value: range.high },
    ]);
    return range;
  }
}
