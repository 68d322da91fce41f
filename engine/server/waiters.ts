import type { Clock } from "../core/index.ts";
import { serverBusy, serverLimits } from "./limits.ts";

interface Waiter {
  readonly until: () => boolean;
  readonly deadlineMs: number;
  readonly resolve: (met: boolean) => void;
}

/**
 * Waiters lets a part of a server wait for a condition, bounded by a deadline: a server owns no
 * timer, so its runtime's tick settles them (`settle`), each with whether its condition came true.
 */
export class Waiters {
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly url = "this server",
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /**
   * until resolves true once `condition()` holds, or false at `deadlineMs` (virtual or real ms).
   * With waitersMax waits already pending it rejects with ServerBusy.
   */
  until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    if (this.clock.nowMs() >= deadlineMs) return Promise.resolve(false);
    if (this.waiting.length >= serverLimits.waitersMax)
      return Promise.reject(serverBusy(this.url, "too many requests wait at once", "waitersMax"));
    return new Promise((resolve) => this.waiting.push({ until: condition, deadlineMs, resolve }));
  }

  /** settle resolves every waiter whose condition holds or whose deadline passed. */
  settle(nowMs: number): void {
    for (let k = this.waiting.length - 1; k >= 0; k--) {
      const waiter = this.waiting[k]!;
      if (waiter.until()) {
        this.waiting.splice(k, 1);
        waiter.resolve(true);
      } else if (nowMs >= waiter.deadlineMs) {
        this.waiting.splice(k, 1);
        waiter.resolve(false);
      }
    }
  }
}
