/**
 * verifyExercise is rustlings' `dev check` for one exercise: it must fail from its starting state
 * (a solution that does nothing) and pass with its reference solution, and every exercise needs
 * hints, solution steps and at least one check.
 */
import { noopSolution, runExercise } from "./runner.ts";
import type { RunReport } from "./runner.ts";
import type { Exercise } from "./types.ts";

/** Verification is what verifyExercise found; `problems` is empty when the exercise is sound. */
export interface Verification {
  readonly exercise: string;
  readonly unsolved: RunReport;
  readonly solved: RunReport;
  readonly problems: readonly string[];
}

/** verifyExercise runs the exercise unsolved and solved and lists what is wrong with it. */
export async function verifyExercise(
  exercise: Exercise,
  options: { readonly seed?: number } = {},
): Promise<Verification> {
  const problems: string[] = [];
  if (exercise.hints.length === 0) problems.push("it has no hints");
  if (exercise.solution.steps.length === 0) problems.push("its solution has no steps to show");
  if (exercise.checks.length === 0) problems.push("it has no checks");
  const ids = exercise.checks.map((check) => check.id);
  if (new Set(ids).size !== ids.length) problems.push("two checks share an id");
  const unsolved = await runExercise(exercise, noopSolution, options);
  if (unsolved.status !== "fail") {
    problems.push(
      unsolved.status === "pass"
        ? "it passes from its starting state, with a solution that does nothing"
        : `doing nothing ends in an error: ${unsolved.message ?? ""}`,
    );
  }
  const solved = await runExercise(exercise, exercise.solution.run, options);
  if (solved.status !== "pass") {
    const failed = solved.checks
      .filter((line) => !line.ok)
      .map((line) => `${line.id} (${line.detail})`);
    problems.push(
      `its reference solution does not pass: ${solved.message ?? ""}${failed.length > 0 ? `; failed: ${failed.join("; ")}` : ""}`,
    );
  }
  return { exercise: exercise.id, unsolved, solved, problems };
}
