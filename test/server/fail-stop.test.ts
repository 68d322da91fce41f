import { describe, expect, it } from "vitest";
import { ManualClock, RookeryError } from "../../engine/core/index.ts";
import type { ServerFailure, TraceEvent } from "../../engine/server/index.ts";
import { FailStop } from "../../engine/server/fail-stop.ts";
import { urlA } from "./parts.ts";

describe("fail-stop (a server after a failed storage write)", () => {
  it("names the first failed write and its reason once, in the trace, to the runtime and to every later request", () => {
    const clock = new ManualClock();
    clock.advanceTo(1_234);
    const events: TraceEvent[] = [];
    const told: ServerFailure[] = [];
    const stop = new FailStop(
      urlA,
      clock,
      (event) => events.push(event),
      (f) => told.push(f),
    );
    expect(stop.failure).toBeUndefined();

    const writes = ["users/1", "users/2", "users/3", "users/4"].map((id) => ({
      store: "db-documents",
      op: "put" as const,
      key: `spade|${id}`,
      value: {},
    }));
    stop.stop(new RookeryError("StorageFailed", "EIO: i/o error"), writes);
    stop.stop(new Error("a later write, refused because of the first"), writes.slice(0, 1));

    const expected = {
      code: "StorageFailed",
      message:
        "could not write 4 operations (db-documents spade|users/1, db-documents spade|users/2, " +
        "db-documents spade|users/3, …): EIO: i/o error",
      atMs: 1_234,
    };
    expect(stop.failure).toEqual(expected);
    expect(told).toEqual([expected]);
    expect(events).toEqual([
      { type: "server", atMs: 1_234, url: urlA, text: `stopped: ${expected.message}` },
    ]);
    const answer = stop.refusal();
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error.code).toBe("StorageFailed");
    expect(!answer.ok && answer.error.message).toMatch(/stopped after a failed write.*restart it/);
  });

  it("an error that is not the storage's own is reported as StorageFailed", () => {
    const stop = new FailStop(
      urlA,
      new ManualClock(),
      () => {},
      () => {},
    );
    stop.stop("disk unplugged", [{ store: "raft-log", op: "delete", key: "7" }]);
    expect(stop.failure).toMatchObject({
      code: "StorageFailed",
      message: "could not write 1 operation (raft-log 7): disk unplugged",
    });
  });
});
