import { describe, expect, it } from "vitest";
import { isRookeryError, ManualClock, SeededRandom } from "../../engine/core/index.ts";
import { DatabaseInstance } from "../../engine/database/index.ts";
import { HostedDatabase, withTiming } from "../../engine/server/index.ts";
import { serverLimits } from "../../engine/server/limits.ts";
import { PeerCalls } from "../../engine/server/peer-calls.ts";
import { RachisHost } from "../../engine/server/rachis-host.ts";
import { Waiters } from "../../engine/server/waiters.ts";
import { WriteChain } from "../../engine/server/write-chain.ts";
import { urlA } from "./parts.ts";

/** busy tells whether `error` is the ServerBusy refusal that names `limit`. */
function busy(error: unknown, limit: keyof typeof serverLimits): boolean {
  return (
    isRookeryError(error, "ServerBusy") &&
    error.message.includes(`${limit} = ${serverLimits[limit]}`) &&
    error.details?.["limit"] === limit
  );
}

describe("every queue of a server has a named limit and a clear error when full", () => {
  it("waits: past waitersMax a new wait is refused", async () => {
    const waiters = new Waiters(new ManualClock(), urlA);
    for (let k = 0; k < serverLimits.waitersMax; k++) void waiters.until(() => false, 1_000);
    expect(
      busy(await waiters.until(() => false, 1_000).catch((e: unknown) => e), "waitersMax"),
    ).toBe(true);
    waiters.settle(1_000);
    expect(waiters.size).toBe(0);
  });

  it("calls to other servers: past peerCallsMax a new call is refused", async () => {
    const calls = new PeerCalls(() => {}, urlA);
    for (let k = 0; k < serverLimits.peerCallsMax; k++)
      void calls.call(urlA, (requestId) => ({ type: "node-info-request", requestId }), 1_000);
    const refused = await calls
      .call(urlA, (requestId) => ({ type: "node-info-request", requestId }), 1_000)
      .catch((e: unknown) => e);
    expect(busy(refused, "peerCallsMax")).toBe(true);
  });

  it("write assurance: past assuranceWaitsMax a new wait is refused (the write stays written)", async () => {
    const instance = new DatabaseInstance({ database: "Spade", nodeTag: "A", databaseId: "dbA" });
    const hosted = new HostedDatabase(
      "Spade",
      instance,
      "A",
      { send: () => {}, persist: (_writes, done) => done(), batchSent: () => {} },
      {},
    );
    hosted.setDestinations(["B"], 0);
    const wait = () => hosted.waitForReplicas(1, "A:1-dbA", { replicas: 1, deadlineMs: 1_000 });
    for (let k = 0; k < serverLimits.assuranceWaitsMax; k++) void wait();
    expect(busy(await wait().catch((e: unknown) => e), "assuranceWaitsMax")).toBe(true);
  });

  it("writes: past writesInFlightMax a client transaction's write is refused before it reaches the disk", async () => {
    let handed = 0;
    const chain = new WriteChain(
      {
        write: () => {
          handed++;
          return new Promise<void>(() => {});
        },
        load: () => new Map(),
      },
      urlA,
      () => {},
    );
    const put = [{ store: "s", op: "put" as const, key: "k", value: 1 }];
    for (let k = 0; k < serverLimits.writesInFlightMax; k++) {
      chain.admit();
      void chain.persistAsync(put);
    }
    let refused: unknown;
    try {
      chain.admit();
    } catch (error) {
      refused = error;
    }
    expect(busy(refused, "writesInFlightMax")).toBe(true);
    expect(handed).toBe(serverLimits.writesInFlightMax);
  });

  it("Raft inputs: while a Ready is being written, past raftInputsQueuedMax ticks and messages are dropped and proposals refused", () => {
    const host = new RachisHost("A", new SeededRandom(1), withTiming(), {
      send: () => {},
      persist: () => {}, // the disk never answers: the node stays busy
      applied: () => {},
      restored: () => {},
      roleChanged: () => {},
    });
    host.bootstrap();
    for (let k = 0; k < serverLimits.raftInputsQueuedMax + 10; k++) host.tick();
    const proposal = host.propose({ type: "promoteNode", tag: "B" });
    expect(proposal.accepted).toBe(false);
    expect(!proposal.accepted && proposal.result).toMatchObject({
      reason: "too-many-uncommitted",
      detail: `${serverLimits.raftInputsQueuedMax} inputs wait for the disk (raftInputsQueuedMax)`,
    });
  });
});
