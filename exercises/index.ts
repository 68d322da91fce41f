/**
 * The exercises, in the order the chapter meets their ideas. `npm run exercise -- list` numbers
 * them from 1 in this order; the book and the CLI find one by number or by id.
 */
import { bootstrap } from "./01-bootstrap.ts";
import { growGroup } from "./02-grow-group.ts";
import { leaderlessWrites } from "./03-leaderless-writes.ts";
import { failover } from "./04-failover.ts";
import { writeAssurance } from "./05-write-assurance.ts";
import { partialTransaction } from "./06-partial-transaction.ts";
import { conflicts } from "./07-conflicts.ts";
import { pitchfork } from "./08-pitchfork.ts";
import { supervisor } from "./09-supervisor.ts";
import { majority } from "./10-majority.ts";
import { partition } from "./11-partition.ts";
import type { Exercise } from "./types.ts";

/** exercises lists every exercise; the position (from 1) is its number. */
export const exercises: readonly Exercise[] = [
  bootstrap,
  growGroup,
  leaderlessWrites,
  failover,
  writeAssurance,
  partialTransaction,
  conflicts,
  pitchfork,
  supervisor,
  majority,
  partition,
];

/** findExercise looks an exercise up by number (from 1) or id; undefined when there is none. */
export function findExercise(numberOrId: string): Exercise | undefined {
  const n = Number(numberOrId);
  if (Number.isInteger(n) && String(n) === numberOrId.trim()) return exercises[n - 1];
  return exercises.find((exercise) => exercise.id === numberOrId.trim());
}

export type { Check, CheckResult, Exercise, RunRecord, Solution } from "./types.ts";
export { evaluate, noopSolution, runExercise } from "./runner.ts";
export type { CheckLine, RunOptions, RunReport } from "./runner.ts";
export { Recorder, readProbes } from "./recorder.ts";
export { verifyExercise } from "./verify.ts";
export type { Verification } from "./verify.ts";
export { resultsJson } from "./results.ts";
export type { ResultsJson } from "./results.ts";
