/**
 * Progress on stderr: a line every interval when it is not a terminal (a pipe, a CI log), a bar
 * redrawn in place on a terminal; both with done/total, failures, rate and time left.
 */
import { describe, expect, it } from "vitest";
import { formatDuration, lineMsFromEnv, Progress } from "../../cli/progress.ts";

function stream(isTTY: boolean): {
  write: (text: string) => void;
  isTTY: boolean;
  text: () => string;
} {
  let written = "";
  return { isTTY, write: (text: string) => void (written += text), text: () => written };
}

describe("Progress", () => {
  it("not on a terminal: one line per interval with done/total, failures, rate and ETA, and a last line", () => {
    let now = 0;
    const err = stream(false);
    const progress = new Progress({
      label: "sim db",
      total: 40,
      unit: "runs",
      stream: err,
      lineMs: 5_000,
      nowMs: () => now,
      heartbeat: false,
    });
    for (let done = 1; done <= 40; done++) {
      now += 1_000; // one run a second
      progress.update(done, done >= 30 ? 1 : 0);
    }
    progress.finish();
    const lines = err.text().trim().split("\n");
    expect(lines[0]).toBe("sim db: 5/40 runs, 0 failed, 1.0 runs/s, ETA 35 s (5 s so far)");
    expect(lines).toContain("sim db: 30/40 runs, 1 failed, 1.0 runs/s, ETA 10 s (30 s so far)");
    expect(lines.at(-1)).toBe("sim db: 40/40 runs, 1 failed, 1.0 runs/s, done in 40 s");
    expect(lines).toHaveLength(9); // every 5 s of 40, and the last
  });

  it("not on a terminal: a heartbeat line while one long piece of work runs", async () => {
    const err = stream(false);
    const progress = new Progress({
      label: "bench",
      total: 2,
      unit: "suites",
      stream: err,
      lineMs: 60,
    });
    progress.update(0, 0, "raft (1/2)");
    await new Promise((resolve) => setTimeout(resolve, 200));
    progress.finish();
    expect(err.text()).toMatch(
      /^bench: 0\/2 suites, 0 failed, 0\.00 suites\/s, ETA unknown \(0 s so far\); now raft \(1\/2\)$/m,
    );
  });

  it("on a terminal: a bar redrawn in place, at most every 100 ms, ending with a newline", () => {
    let now = 0;
    const err = stream(true);
    const progress = new Progress({
      label: "sim raft",
      total: 10,
      unit: "runs",
      stream: err,
      nowMs: () => now,
    });
    for (let done = 1; done <= 10; done++) {
      now += 30;
      progress.update(done, 0);
    }
    progress.note("a failure's report");
    progress.finish();
    const text = err.text();
    expect(text).toContain("\rsim raft [##########..............] 4/10 runs, 0 failed, 33 runs/s");
    expect(text).toContain("\r\x1b[Ka failure's report\n");
    expect(text.endsWith("done in 0 s\x1b[K\n")).toBe(true);
    expect(text.split("\r").length).toBeLessThan(10); // throttled, not one redraw per update
  });

  it("durations read as people say them; ROOKERY_PROGRESS_MS sets the interval", () => {
    expect([formatDuration(42), formatDuration(185), formatDuration(3_725)]).toEqual([
      "42 s",
      "3 min 5 s",
      "1 h 2 min",
    ]);
    expect(lineMsFromEnv({ ROOKERY_PROGRESS_MS: "250" })).toBe(250);
    expect(lineMsFromEnv({ ROOKERY_PROGRESS_MS: "soon" })).toBe(5_000);
    expect(lineMsFromEnv({})).toBe(5_000);
  });
});
