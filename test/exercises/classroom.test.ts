/**
 * What the book and a teacher get from exercises/: one generated page per exercise, up to date;
 * the example GitHub Classroom configurations name real exercises and their files; the example
 * solution on the teacher's page passes.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { exercises } from "../../exercises/index.ts";
import { stalePages } from "../../scripts/exercise-pages.ts";

const repo = resolve(import.meta.dirname, "../..");

describe("the book's exercise pages and the classroom examples", () => {
  it("book/src/content/docs/exercises has one generated page per exercise, up to date (npm run exercise-pages)", () => {
    expect(stalePages()).toEqual([]);
  });

  it("the Pages workflow builds under the repository's name with Node 20.19 and npm ci, and uploads site/", () => {
    const yml = readFileSync(join(repo, ".github/workflows/pages.yml"), "utf8");
    expect(yml).toMatch(/node-version: "20\.19"/);
    expect(yml).toMatch(/run: npm ci/);
    expect(yml).toMatch(/BASE_PATH: \/\$\{\{ github\.event\.repository\.name \}\}\//);
    expect(yml).toMatch(/path: site\//);
    expect(yml).toMatch(/actions\/deploy-pages@/);
  });

  it("autograding.json and classroom.yml run `check N --solution solutions/NN-<id>.ts --json …` for exercise N", () => {
    const autograding = JSON.parse(
      readFileSync(join(repo, "docs/classroom/autograding.json"), "utf8"),
    ) as { tests: { name: string; run: string; timeout: number; points: number }[] };
    const yml = readFileSync(join(repo, "docs/classroom/classroom.yml"), "utf8");
    expect(autograding.tests).toHaveLength(exercises.length);
    exercises.forEach((exercise, i) => {
      const n = i + 1;
      const file = `${String(n).padStart(2, "0")}-${exercise.id}`;
      const command = `npm run exercise -- check ${n} --solution solutions/${file}.ts --json results/${file}.json`;
      expect(autograding.tests[i]!.run).toBe(command);
      expect(yml).toContain(`command: ${command}`);
    });
  });

  it("the teacher page's example solution of exercise 2 passes `npm run exercise -- check 2`", async () => {
    const result = await new Promise<{ code: number; stdout: string }>((done) => {
      execFile(
        process.execPath,
        [
          "--import",
          "tsx",
          "cli/bin.ts",
          "exercise",
          "check",
          "2",
          "--solution",
          "docs/classroom/02-grow-group.example.ts",
        ],
        { cwd: repo, timeout: 60_000, env: { ...process.env, INIT_CWD: repo } },
        (error, stdout) => {
          done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout });
        },
      );
    });
    expect(result.stdout).toMatch(/PASS: all 4 checks hold/);
    expect(result.code).toBe(0);
  });
});
