import { describe, expect, it } from "vitest";
import { ManualClock } from "../../engine/core/index.ts";
import { Waiters } from "../../engine/server/waiters.ts";

describe("waiters (a server's bounded waits)", () => {
  it("a condition that already holds resolves at once; one past its deadline fails at once", async () => {
    const clock = new ManualClock(100);
    const waiters = new Waiters(clock);
    expect(await waiters.until(() => true, 0)).toBe(true);
    expect(await waiters.until(() => false, 100)).toBe(false);
    expect(waiters.size).toBe(0);
  });

  it("resolves true at the first tick after the condition comes true", async () => {
    const clock = new ManualClock();
    const waiters = new Waiters(clock);
    let ready = false;
    const waited = waiters.until(() => ready, 1_000);
    waiters.settle(10);
    expect(waiters.size).toBe(1);
    ready = true;
    waiters.settle(20);
    expect(await waited).toBe(true);
    expect(waiters.size).toBe(0);
  });

  it("resolves false once the deadline passes, and only then", async () => {
    const clock = new ManualClock();
    const waiters = new Waiters(clock);
    let outcome: boolean | undefined;
    void waiters.until(() => false, 500).then((met) => (outcome = met));
    waiters.settle(499);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    waiters.settle(500);
    await Promise.resolve();
    expect(outcome).toBe(false);
  });
});
