/**
 * Clock is the port through which time reaches code that may not read it directly. Under the
 * simulator it is virtual milliseconds; in a worker it is the platform clock.
 */
export interface Clock {
  /** nowMs returns the current time in milliseconds since an arbitrary origin. */
  nowMs(): number;
}

/** ManualClock is a Clock that moves only when told; the simulator and unit tests use it. */
export class ManualClock implements Clock {
  constructor(private currentMs = 0) {}
  nowMs(): number {
    return this.currentMs;
  }
  advanceTo(ms: number): void {
    if (ms < this.currentMs)
      throw new RangeError(`clock cannot go back from ${this.currentMs} to ${ms}`);
    this.currentMs = ms;
  }
}
