/**
 * Every exercise's reference solution and known-wrong solutions, run in Chromium: the same runner,
 * checks and simulated cluster as `npm test`, in a page of the book. esbuild bundles this file
 * (with "rookery" pointing at engine/index.ts, as the CLI bundles a student's file); the browser
 * test injects it and reads window.rookeryExercises.
 */
import { exercises, findExercise, runExercise } from "../../exercises/index.ts";
import { wrongSolutions } from "../../exercises/wrong/index.ts";

/** ExerciseRun is one solution's verdict, as the browser test compares it. */
export interface ExerciseRun {
  readonly exercise: string;
  readonly solution: string;
  readonly status: string;
  readonly message?: string;
  readonly check?: string;
  readonly ok?: boolean;
  readonly detail?: string;
  readonly expected?: string;
}

async function runAll(): Promise<ExerciseRun[]> {
  const runs: ExerciseRun[] = [];
  for (const exercise of exercises) {
    const report = await runExercise(exercise, exercise.solution.run);
    runs.push({
      exercise: exercise.id,
      solution: "reference",
      status: report.status,
      ...(report.message !== undefined ? { message: report.message } : {}),
    });
  }
  for (const wrong of wrongSolutions) {
    const report = await runExercise(findExercise(wrong.exercise)!, wrong.run);
    const line = report.checks.find((l) => l.id === wrong.check);
    runs.push({
      exercise: wrong.exercise,
      solution: wrong.file,
      status: report.status,
      ...(report.message !== undefined ? { message: report.message } : {}),
      check: wrong.check,
      ok: line?.ok ?? true,
      detail: line?.detail ?? "(no such check)",
      expected: wrong.detail,
    });
  }
  return runs;
}

(globalThis as { rookeryExercises?: Promise<ExerciseRun[]> }).rookeryExercises = runAll();
