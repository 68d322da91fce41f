/**
 * Progress of a long run on stderr, so stdout stays for results: on a terminal a bar redrawn in
 * place; anywhere else (a pipe, a CI log) one line every few seconds. Both say how many are done
 * of how many, how many failed, the rate and the time left.
 */
import type { Stream } from "./command.ts";

/** How often a line is printed when stderr is not a terminal, unless ROOKERY_PROGRESS_MS says. */
export const progressLineMsDefault = 5_000;
/** How often the bar is redrawn at most on a terminal. */
const barRedrawMs = 100;
const barWidth = 24;

export interface ProgressOptions {
  /** What is running, at the start of each line: "sim db". */
  readonly label: string;
  readonly total: number;
  /** What is counted, plural: "runs", "suites". */
  readonly unit: string;
  readonly stream: Stream;
  /** Lines mode: the interval between lines (default progressLineMsDefault or ROOKERY_PROGRESS_MS). */
  readonly lineMs?: number;
  /** The clock, in ms (tests pass their own). */
  readonly nowMs?: () => number;
  /** Whether a timer prints a line when the work goes quiet for a whole interval (default true). */
  readonly heartbeat?: boolean;
}

/** lineMsFromEnv reads ROOKERY_PROGRESS_MS (a whole number of ms), if set. */
export function lineMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env["ROOKERY_PROGRESS_MS"];
  return raw !== undefined && /^\d+$/.test(raw) && Number(raw) > 0
    ? Number(raw)
    : progressLineMsDefault;
}

/** formatDuration writes seconds as "42 s", "3 min 5 s" or "1 h 2 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Progress reports one long run; call update() as work finishes and finish() at the end. */
export class Progress {
  private readonly tty: boolean;
  private readonly lineMs: number;
  private readonly nowMs: () => number;
  private readonly startedMs: number;
  private done = 0;
  private failures = 0;
  private current: string | undefined;
  private lastPrintMs: number;
  private barShown = false;
  private finished = false;
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.tty = options.stream.isTTY === true;
    this.lineMs = options.lineMs ?? lineMsFromEnv();
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.startedMs = this.nowMs();
    this.lastPrintMs = this.startedMs;
    // When one piece of work takes longer than the interval, the timer still says it is alive
    // (as long as the work gives the event loop a turn now and then).
    if (!this.tty && options.heartbeat !== false) {
      this.timer = setInterval(() => this.maybeLine(), Math.max(50, this.lineMs / 2));
      this.timer.unref?.();
    }
  }

  /** update records how many are done and failed so far; `current` names what runs now. */
  update(done: number, failures: number, current?: string): void {
    this.done = done;
    this.failures = failures;
    this.current = current;
    if (this.tty) this.maybeBar();
    else this.maybeLine();
  }

  /** note prints a line of its own (a failure's report) without breaking the bar. */
  note(text: string): void {
    this.clear();
    this.options.stream.write(text.endsWith("\n") ? text : `${text}\n`);
    if (this.tty) this.drawBar();
  }

  /** finish prints the last state and stops the timer. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    if (this.tty) {
      this.drawBar();
      this.options.stream.write("\n");
      this.barShown = false;
    } else this.line();
  }

  /** summary is the state in words: "12/40 runs, 0 failed, 3.1 runs/s, ETA 9 s". */
  summary(): string {
    const elapsedS = (this.nowMs() - this.startedMs) / 1000;
    const rate = elapsedS > 0 ? this.done / elapsedS : 0;
    const left = this.options.total - this.done;
    const time =
      left <= 0
        ? `done in ${formatDuration(elapsedS)}`
        : `ETA ${rate > 0 ? formatDuration(left / rate) : "unknown"} (${formatDuration(elapsedS)} so far)`;
    const rateText = rate >= 10 ? rate.toFixed(0) : rate >= 1 ? rate.toFixed(1) : rate.toFixed(2);
    return (
      `${this.done}/${this.options.total} ${this.options.unit}, ${this.failures} failed, ` +
      `${rateText} ${this.options.unit}/s, ${time}`
    );
  }

  private maybeLine(): void {
    if (this.finished) return;
    if (this.nowMs() - this.lastPrintMs >= this.lineMs) this.line();
  }

  private line(): void {
    this.lastPrintMs = this.nowMs();
    const current = this.current && !this.finished ? `; now ${this.current}` : "";
    this.options.stream.write(`${this.options.label}: ${this.summary()}${current}\n`);
  }

  private maybeBar(): void {
    if (this.nowMs() - this.lastPrintMs >= barRedrawMs || this.done === this.options.total)
      this.drawBar();
  }

  private drawBar(): void {
    this.lastPrintMs = this.nowMs();
    const share = this.options.total > 0 ? this.done / this.options.total : 1;
    const filled = Math.round(share * barWidth);
    const text = `${this.options.label} [${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${this.summary()}`;
    const columns = this.options.stream.columns ?? 100;
    this.options.stream.write(`\r${text.slice(0, Math.max(10, columns - 1))}\x1b[K`);
    this.barShown = true;
  }

  /** clear takes the bar off the terminal before something else prints (it comes back on update). */
  clear(): void {
    if (this.barShown) this.options.stream.write("\r\x1b[K");
    this.barShown = false;
  }
}
