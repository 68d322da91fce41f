import { assert, ManualClock, SeededRandom } from "../../core/index.ts";
import type { Random } from "../../core/index.ts";

/**
 * Watchdog bounds one run: a run that takes more events, or reaches a later virtual time, than
 * any healthy run would has stalled (a message storm at one instant, a loop that never ends).
 */
export interface Watchdog {
  readonly eventsMax: number;
  readonly virtualMsMax: number;
}

/**
 * SimulationStalled is thrown by every step once the watchdog has fired, so each loop that drives
 * the simulator stops; the sweep reports it as a failure with the seed's replay line.
 */
export class SimulationStalled extends Error {
  constructor(
    readonly eventsRun: number,
    readonly virtualMs: number,
    readonly watchdog: Watchdog,
  ) {
    super(
      eventsRun >= watchdog.eventsMax
        ? `the run stalled: ${eventsRun} events and still at ${virtualMs.toFixed(1)} virtual ms ` +
            `(watchdog: at most ${watchdog.eventsMax} events)`
        : `the run stalled: ${eventsRun} events and the next one is past ` +
            `${watchdog.virtualMsMax} virtual ms (watchdog: at most ${watchdog.virtualMsMax} ms)`,
    );
    this.name = "SimulationStalled";
  }
}

interface ScheduledEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Simulator is a single-threaded world on a virtual clock: events run in time order (ties in the
 * order they were scheduled), and all randomness comes from one seed, so a run replays exactly.
 */
export class Simulator {
  readonly clock: ManualClock;
  readonly random: Random;
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  eventsRun = 0;
  /** Called after every event: invariant checkers hang here. */
  afterEach: (() => void) | undefined;
  /** Bounds on this run, if any; see Watchdog. */
  watchdog: Watchdog | undefined;
  /** Set once the watchdog fired; every later step throws it again. */
  stalled: SimulationStalled | undefined;

  constructor(readonly seed: number) {
    this.clock = new ManualClock(0);
    this.random = new SeededRandom(seed);
  }

  nowMs(): number {
    return this.clock.nowMs();
  }

  /** schedule runs `run` after `delayMs` virtual milliseconds. */
  schedule(delayMs: number, run: () => void): void {
    assert(delayMs >= 0 && Number.isFinite(delayMs), () => `bad delay ${delayMs}`);
    this.push({ atMs: this.clock.nowMs() + delayMs, seq: this.seq++, run });
  }

  /** every runs `run` each `periodMs` until it returns false. */
  every(periodMs: number, run: () => boolean | void): void {
    const loop = (): void => {
      if (run() !== false) this.schedule(periodMs, loop);
    };
    this.schedule(periodMs, loop);
  }

  /** step runs the next event; returns false when nothing is scheduled. */
  step(): boolean {
    if (this.stalled) throw this.stalled;
    const next = this.heap[0];
    if (!next) return false;
    const watchdog = this.watchdog;
    if (watchdog && (this.eventsRun >= watchdog.eventsMax || next.atMs > watchdog.virtualMsMax)) {
      this.stalled = new SimulationStalled(this.eventsRun, this.clock.nowMs(), watchdog);
      throw this.stalled;
    }
    const event = this.pop()!;
    this.clock.advanceTo(event.atMs);
    this.eventsRun++;
    event.run();
    this.afterEach?.();
    return true;
  }

  /**
   * stepUntil runs the next event if it is due by `untilMs`; otherwise it moves the clock to
   * `untilMs` (when that is later) and returns false.
   */
  stepUntil(untilMs: number): boolean {
    const next = this.heap[0];
    if (next && next.atMs <= untilMs) return this.step();
    if (Number.isFinite(untilMs) && untilMs > this.clock.nowMs()) this.clock.advanceTo(untilMs);
    return false;
  }

  /** runFor runs every event up to `durationMs` from now, then sets the clock to that time. */
  runFor(durationMs: number): void {
    const until = this.clock.nowMs() + durationMs;
    while (this.heap.length > 0 && this.heap[0]!.atMs <= until) this.step();
    this.clock.advanceTo(until);
  }

  /**
   * runUntil runs events until `condition` holds (checked after each event) or `timeoutMs` pass.
   * Returns whether the condition held.
   */
  runUntil(condition: () => boolean, timeoutMs: number): boolean {
    const until = this.clock.nowMs() + timeoutMs;
    if (condition()) return true;
    while (this.heap.length > 0 && this.heap[0]!.atMs <= until) {
      this.step();
      if (condition()) return true;
    }
    this.clock.advanceTo(until);
    return condition();
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): ScheduledEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
