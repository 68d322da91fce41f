import { describe, expect, it } from "vitest";
import { isRookeryError, SeededRandom, type Random } from "../../engine/core/index.ts";
import type { DatabaseSettings, TransactionInput } from "../../engine/database/index.ts";
import type { ReplicationAck, ReplicationBatch } from "../../engine/replication/index.ts";
import { Group, visibleState } from "./driver.ts";

const tags = ["A", "B", "C"] as const;
const ids = ["users/1", "Users/2", "users/3", "orders/1"];

function randomTransaction(random: Random): TransactionInput {
  const pick = () => random.pick(ids);
  const roll = random.int(10);
  if (roll < 5) {
    const puts = Array.from({ length: random.between(1, 2) }, () => ({
      id: pick(),
      body: { v: random.int(3) },
    }));
    return { puts };
  }
  if (roll < 7) return { deletes: [{ id: pick() }] };
  if (roll < 9) {
    const content = random.pick(["x", "yy", "zzz"]);
    return {
      attachmentPuts: [{ documentId: pick(), name: random.pick(["a.txt", "b.txt"]), content }],
    };
  }
  return { attachmentDeletes: [{ documentId: pick(), name: random.pick(["a.txt", "b.txt"]) }] };
}

/** Network holds batches and acks in flight so they can be lost, repeated or delayed. */
interface InFlight {
  readonly batches: ReplicationBatch[];
  readonly acks: ReplicationAck[];
}

function step(group: Group, random: Random, flight: InFlight, nowMs: number): void {
  const roll = random.int(20);
  const from = random.pick(tags);
  const to = random.pick(tags.filter((tag) => tag !== from));
  if (roll < 6) {
    try {
      group.write(from, randomTransaction(random), nowMs);
    } catch (error) {
      // Attachments on missing documents are refused; anything else is a failure.
      if (!isRookeryError(error, "DocumentDoesNotExist")) throw error;
    }
  } else if (roll < 11) {
    const batch = group.send(from, to);
    if (batch !== undefined) flight.batches.push(batch);
  } else if (roll < 15 && flight.batches.length > 0) {
    const batch = flight.batches.splice(random.int(flight.batches.length), 1)[0]!;
    flight.acks.push(group.deliver(batch));
    if (random.chance(0.2)) flight.acks.push(group.deliver(batch));
  } else if (roll < 18 && flight.acks.length > 0) {
    group.acknowledge(flight.acks.splice(random.int(flight.acks.length), 1)[0]!);
  } else if (roll === 18) {
    // A lost batch or ack: the sender gives up waiting and sends again.
    group.connection(from, to).retry();
  } else {
    const before = group.node(from).snapshot();
    expect(group.restart(from).snapshot()).toEqual(before);
  }
}

function revisionsOf(group: Group, tag: string): string[] {
  return ids
    .flatMap((id) =>
      group
        .node(tag)
        .revisionsOf(id)
        .map((revision) => `${id.toLowerCase()} ${revision.changeVector}`),
    )
    .sort();
}

function runSeed(seed: number): void {
  const random = new SeededRandom(seed);
  const settings: DatabaseSettings = {
    conflictResolution: random.chance(0.5) ? "latest" : "none",
    revisions: { default: { enabled: random.chance(0.5) } },
  };
  const group = new Group([...tags], { settings, limits: { batchItemsMax: random.between(1, 6) } });
  const flight: InFlight = { batches: [], acks: [] };
  let nowMs = 0;
  for (let index = 0; index < 80; index++) {
    nowMs += random.int(3);
    step(group, random, flight, nowMs);
  }
  for (const connection of group.connections.values()) connection.retry();
  group.settle();
  const expected = visibleState(group.node("A"));
  for (const tag of tags) {
    expect(visibleState(group.node(tag)), `${tag} differs from A`).toEqual(expected);
    expect(revisionsOf(group, tag), `revisions of ${tag}`).toEqual(revisionsOf(group, "A"));
  }
  // Every conflict resolves with a put, everywhere.
  for (const id of ids) {
    if (group.node("B").conflictsOf(id).length > 0)
      group.write("B", { puts: [{ id, body: { fixed: true } }] }, nowMs + 1);
  }
  group.settle();
  for (const tag of tags) {
    for (const id of ids) expect(group.node(tag).conflictsOf(id), `${tag} ${id}`).toEqual([]);
    expect(visibleState(group.node(tag))).toEqual(visibleState(group.node("A")));
  }
}

describe("convergence of a database group", () => {
  it("three instances converge after random interleavings of writes, lost and repeated batches and restarts (300 seeds)", () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 300; seed++) {
      try {
        runSeed(seed);
      } catch (error) {
        failures.push(
          `seed ${seed}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
        );
      }
    }
    expect(failures, `replay one with runSeed(<seed>)\n${failures.slice(0, 5).join("\n")}`).toEqual(
      [],
    );
  });
});
