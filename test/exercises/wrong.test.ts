/**
 * Exercises no wrong solution passes: every exercise ships at least two known-wrong solutions
 * (exercises/wrong/), and each fails on the check it is meant to fail, with the checker's words
 * for it, while the reference solution passes (verify.test.ts). The same list runs in Chromium.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { exercises, findExercise, runExercise } from "../../exercises/index.ts";
import { wrongSolutions } from "../../exercises/wrong/index.ts";

const repo = resolve(import.meta.dirname, "../..");

describe("known-wrong solutions", () => {
  it("every exercise has at least two, and every file in exercises/wrong/ is listed with its exercise's number", () => {
    for (const [i, exercise] of exercises.entries()) {
      const mine = wrongSolutions.filter((w) => w.exercise === exercise.id);
      expect(mine.length, exercise.id).toBeGreaterThanOrEqual(2);
      for (const w of mine) expect(w.file.slice(0, 2), w.file).toBe(String(i + 1).padStart(2, "0"));
    }
    const files = readdirSync(resolve(repo, "exercises/wrong")).filter((f) => /^\d\d-/.test(f));
    expect(files.sort()).toEqual(wrongSolutions.map((w) => w.file).sort());
  });

  it.each(wrongSolutions.map((w) => [w.file, w] as const))(
    "%s fails on its check, with the checker's words",
    async (_file, wrong) => {
      const exercise = findExercise(wrong.exercise)!;
      expect(exercise.checks.map((c) => c.id)).toContain(wrong.check);
      const report = await runExercise(exercise, wrong.run);
      expect(report.status, report.message).toBe("fail");
      const line = report.checks.find((l) => l.id === wrong.check)!;
      expect(line.ok, line.detail).toBe(false);
      expect(line.detail).toContain(wrong.detail);
    },
  );

  it("a wrong solution is an ordinary solution file: the CLI checks it and exits 1 with the same words", async () => {
    const result = await new Promise<{ code: number; stdout: string }>((done) => {
      execFile(
        process.execPath,
        [
          "--import",
          "tsx",
          "cli/bin.ts",
          "exercise",
          "check",
          "5",
          "--solution",
          "exercises/wrong/05-cut-instead-of-kill.ts",
        ],
        { cwd: repo, timeout: 60_000, env: { ...process.env, INIT_CWD: repo } },
        (error, stdout) =>
          done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout }),
      );
    });
    expect(result.stdout).toMatch(
      /✗ when it failed, the other node of Spade had been killed\n\s+B was cut off by the network, not killed/,
    );
    expect(result.code).toBe(1);
  });
});
