/**
 * The runner: start an exercise's cluster, run its setup, run a solution under a virtual-time and
 * a wall-time limit, probe, and check. Platform-neutral (only the public API and setTimeout), so
 * the book can run a reference solution the same way the CLI runs a student's.
 */
import { Cluster, DocumentStore, isRookeryError } from "../engine/index.ts";
import { Recorder, runOverCode, timeLimitCode } from "./recorder.ts";
import type { Exercise, RunOutcome, RunRecord, Solution } from "./types.ts";

/** Default budget of cluster time for a solution: a virtual minute is plenty for any exercise. */
export const virtualLimitMsDefault = 60_000;
/** Default budget of real time: a solution that needs longer is stuck, not slow. */
export const wallLimitMsDefault = 30_000;

/** RunOptions override the exercise's seed and limits. */
export interface RunOptions {
  readonly seed?: number;
  readonly virtualLimitMs?: number;
  readonly wallLimitMs?: number;
}

/** CheckLine is one line of the checklist. */
export interface CheckLine {
  readonly id: string;
  readonly description: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * RunReport is the verdict: pass (every check holds), fail (some do not) or error (the solution
 * threw or ran out of time; `message` says which), with one line per check either way.
 */
export interface RunReport {
  readonly exercise: string;
  readonly title: string;
  readonly seed: number;
  readonly status: "pass" | "fail" | "error";
  readonly message?: string;
  readonly checks: readonly CheckLine[];
  readonly record: RunRecord;
}

/** noopSolution does nothing: an exercise must fail from its starting state. */
export const noopSolution: Solution = async () => {};

/** evaluate runs every check on a record; a check that throws counts as failed, with the reason. */
export function evaluate(exercise: Exercise, record: RunRecord): CheckLine[] {
  return exercise.checks.map((check) => {
    try {
      const result = check.check(record);
      return { id: check.id, description: check.description, ok: result.ok, detail: result.detail };
    } catch (error) {
      return {
        id: check.id,
        description: check.description,
        ok: false,
        detail: `the checker failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  });
}

function describeError(error: unknown): { message: string; code?: string } {
  if (isRookeryError(error))
    return { message: `${error.code}: ${error.message}`, code: error.code };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}

/**
 * runExercise runs `solution` on a fresh copy of the exercise's starting state and checks it.
 * The solution races its limits: the virtual limit trips when any call on the cluster finds the
 * budget spent (waits and runFor are cut to what is left), the wall limit when real time runs out
 * (a solution awaiting something that never happens). A solution that blocks the thread
 * (`while (true) {}`) cannot be stopped from inside; the CLI runs it in a child process for that.
 */
export async function runExercise(
  exercise: Exercise,
  solution: Solution,
  options: RunOptions = {},
): Promise<RunReport> {
  const seed = options.seed ?? exercise.start.seed ?? 1;
  const virtualLimitMs =
    options.virtualLimitMs ?? exercise.limits?.virtualMs ?? virtualLimitMsDefault;
  const wallLimitMs = options.wallLimitMs ?? exercise.limits?.wallMs ?? wallLimitMsDefault;
  const cluster = await Cluster.start({
    runtime: "sim",
    servers: exercise.start.servers,
    seed,
    ...(exercise.start.replicationLimits
      ? { replicationLimits: exercise.start.replicationLimits }
      : {}),
  });
  const recorder = new Recorder(cluster, exercise.id, seed);
  try {
    const store = new DocumentStore({
      urls: cluster.urls,
      database: exercise.start.database ?? "Spade",
      network: recorder.network,
    });
    store.initialize();
    recorder.watchStore(store);
    await exercise.start.setup?.(recorder.handle, store);

    let outcome: RunOutcome;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limits = new Promise<RunOutcome>((resolve) => {
      recorder.startSolution(virtualLimitMs, () =>
        resolve({
          status: "timed-out",
          limit: "virtual",
          message: `the solution ran past its time limit: ${virtualLimitMs} ms of virtual cluster time (a loop that never ends, or a wait for something that never happens?)`,
        }),
      );
      timer = setTimeout(
        () =>
          resolve({
            status: "timed-out",
            limit: "wall",
            message: `the solution ran past its time limit: ${wallLimitMs} ms of real time (is it awaiting a promise that never settles?)`,
          }),
        wallLimitMs,
      );
    });
    const ran = (async (): Promise<RunOutcome> => {
      try {
        await solution(recorder.handle, store);
        return { status: "completed" };
      } catch (error) {
        const { message, code } = describeError(error);
        if (code === timeLimitCode)
          return {
            status: "timed-out",
            limit: "virtual",
            message: `the solution ran past its time limit: ${message}`,
          };
        return {
          status: "threw",
          message: `the solution threw: ${message}`,
          ...(code !== undefined ? { code } : {}),
        };
      }
    })();
    try {
      outcome = await Promise.race([ran, limits]);
    } finally {
      clearTimeout(timer);
    }
    recorder.seal();
    // A run that ended on a limit may leave the solution's promise behind; its next call raises RunOver.
    void ran.catch(() => undefined);
    if (exercise.probe) await recorder.probe(exercise.probe);
    const record = recorder.record(outcome);
    const checks = evaluate(exercise, record);
    const failed = checks.filter((line) => !line.ok).length;
    const status = outcome.status === "completed" ? (failed === 0 ? "pass" : "fail") : "error";
    const message =
      outcome.status === "completed"
        ? failed === 0
          ? undefined
          : `${failed} of ${checks.length} checks failed`
        : outcome.message;
    return {
      exercise: exercise.id,
      title: exercise.title,
      seed,
      status,
      ...(message !== undefined ? { message } : {}),
      checks,
      record,
    };
  } finally {
    recorder.dispose();
    await cluster.stop();
  }
}

/** isRunOver tells whether an error is the one a call raises after its run ended. */
export function isRunOver(error: unknown): boolean {
  return isRookeryError(error, runOverCode);
}
