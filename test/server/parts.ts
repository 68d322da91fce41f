/**
 * Helpers for testing a server's parts one at a time: a context with a manual clock, a seeded
 * random, storage that is durable at once, and a record of what the part sent and traced.
 */
import { ManualClock, SeededRandom } from "../../engine/core/index.ts";
import { applyClusterCommand, emptyClusterState } from "../../engine/cluster/index.ts";
import type { ClusterCommand, ClusterState } from "../../engine/cluster/index.ts";
import type { ServerStorage, StorageWrite, TraceEvent } from "../../engine/server/index.ts";
import type { ServerContext } from "../../engine/server/context.ts";
import { withTiming } from "../../engine/server/timing.ts";
import type { TimingOptions } from "../../engine/server/timing.ts";
import { Waiters } from "../../engine/server/waiters.ts";
import { WriteChain } from "../../engine/server/write-chain.ts";
import type { Message } from "../../engine/raft/index.ts";
import type { PeerMessage } from "../../engine/transport/index.ts";

export const urlA = "http://127.0.0.1:8080";
export const urlB = "http://127.0.0.2:8080";
export const urlC = "http://127.0.0.3:8080";

/** DiskNow is storage whose writes are durable the moment write() returns (like the sim's). */
export class DiskNow implements ServerStorage {
  readonly stores = new Map<string, Map<string, unknown>>();
  readonly batches: (readonly StorageWrite[])[] = [];

  write(batch: readonly StorageWrite[]): void {
    this.batches.push(batch);
    for (const write of batch) {
      let store = this.stores.get(write.store);
      if (!store) this.stores.set(write.store, (store = new Map()));
      if (write.op === "put") store.set(write.key, structuredClone(write.value));
      else store.delete(write.key);
    }
  }

  load(): ReadonlyMap<string, ReadonlyMap<string, unknown>> {
    return new Map([...this.stores].map(([name, store]) => [name, new Map(store)]));
  }
}

/** Parts is a context for one part under test and what it did. */
export interface Parts {
  readonly context: ServerContext;
  readonly clock: ManualClock;
  readonly storage: DiskNow;
  readonly sent: { readonly url: string; readonly message: PeerMessage }[];
  readonly events: TraceEvent[];
  /** advance moves the clock and settles waiters, as a tick would. */
  advance(ms: number): void;
}

export function parts(
  options: { url?: string; seed?: number; timing?: TimingOptions; storage?: DiskNow } = {},
): Parts {
  const clock = new ManualClock();
  const storage = options.storage ?? new DiskNow();
  const sent: { url: string; message: PeerMessage }[] = [];
  const events: TraceEvent[] = [];
  const waiters = new Waiters(clock);
  const context: ServerContext = {
    url: options.url ?? urlA,
    clock,
    random: new SeededRandom(options.seed ?? 1),
    timing: withTiming(options.timing),
    writes: new WriteChain(storage, options.url ?? urlA, (error) => {
      throw new Error(`a part's write failed: ${String(error)}`);
    }),
    waiters,
    trace: (event) => events.push(event),
    detail: { raftMessages: false },
    sendPeer: (url, message) => sent.push({ url, message }),
  };
  return {
    context,
    clock,
    storage,
    sent,
    events,
    advance(ms) {
      clock.advanceTo(clock.nowMs() + ms);
      waiters.settle(clock.nowMs());
    },
  };
}

/** clusterStateOf applies commands one after another, as every server would once they commit. */
export function clusterStateOf(commands: readonly ClusterCommand[]): ClusterState {
  let state = emptyClusterState();
  commands.forEach((command, k) => {
    const applied = applyClusterCommand(state, command, k + 1);
    if (!applied.result.ok) throw new Error(`${command.type}: ${applied.result.error.message}`);
    state = applied.state;
  });
  return state;
}

/**
 * twoVoterDisk is the disk of node `tag` (A or B) of a cluster with two voters, A and B: what it
 * kept after B joined and voted, up to index 4 in term 2. Started alone, it cannot reach a majority.
 * With `withServerIds`, the cluster recorded A as server-of-a and B as server-of-b (as it does
 * today); without, it is a cluster from before server ids.
 */
export function twoVoterDisk(tag: "A" | "B" = "A", withServerIds = false): DiskNow {
  const disk = new DiskNow();
  const id = (t: string) => (withServerIds ? { serverId: `server-of-${t.toLowerCase()}` } : {});
  const state = clusterStateOf([
    { type: "bootstrap", url: urlA, topologyId: "cluster1", ...id("A") },
    { type: "addNode", url: urlB, ...id("B") },
  ]);
  disk.write([
    { store: "server", op: "put", key: "tag", value: tag },
    { store: "server", op: "put", key: "topologyId", value: "cluster1" },
    ...(withServerIds
      ? [{ store: "server", op: "put" as const, key: "serverId", value: id(tag).serverId }]
      : []),
    { store: "raft", op: "put", key: "hard", value: { term: 2, vote: "A", commit: 4 } },
    {
      store: "raft",
      op: "put",
      key: "snapshot",
      value: {
        index: 4,
        term: 2,
        membership: { voters: ["A", "B"], learners: [] },
        data: JSON.stringify(state),
      },
    },
  ]);
  return disk;
}

/**
 * raft wraps a Raft message as a peer sends it, by default from server "server-of-a";
 * `toServerId` is the id the sender expects at the other end (null: it knows none, as in states
 * written before server ids).
 */
export function raft(
  topologyId: string,
  toTag: string,
  message: Message,
  toServerId: string | null = null,
  fromServerId = "server-of-a",
): Extract<PeerMessage, { type: "raft" }> {
  return { type: "raft", topologyId, toTag, fromServerId, toServerId, message };
}

/** heartbeat is leader A's empty append to `to` in `term`, after index `at` of that term. */
export function heartbeat(term: number, to = "B", at = 0): Message {
  return {
    type: "append",
    from: "A",
    to,
    term,
    prevIndex: at,
    prevTerm: at === 0 ? 0 : term,
    entries: [],
    commit: at,
  };
}
