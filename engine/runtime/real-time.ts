/**
 * Real-time helpers the hosts of real servers share (workers, OS processes): the clock they all
 * read, sleeping, bounding a wait, and polling for a condition with an error that says what was
 * awaited.
 */
import { RookeryError } from "../core/index.ts";

/** epochMs is milliseconds since the epoch at sub-millisecond resolution. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** within settles with `promise`, or rejects after `ms` with `code`, saying what took too long. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  code = "WorkerTimeout",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new RookeryError(code, `${what} took longer than ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How often pollUntil looks again. */
const pollMs = 5;

/**
 * pollUntil checks `condition` in real time until it holds, or fails after `timeoutMs` (default
 * 10 s) with an error that says what was awaited; it stops early when `stopped()` says the
 * cluster is gone.
 */
export async function pollUntil(
  condition: () => boolean,
  options: { readonly timeoutMs?: number; readonly what?: string },
  stopped: () => boolean,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = epochMs() + timeoutMs;
  for (;;) {
    if (condition()) return;
    if (stopped())
      throw new RookeryError(
        "ClusterStopped",
        `the cluster stopped while waiting for ${options.what ?? "a condition"}`,
      );
    if (epochMs() >= deadline) {
      throw new RookeryError(
        "WaitTimedOut",
        `waited ${timeoutMs} ms for ${options.what ?? "a condition"} and it did not happen`,
      );
    }
    await sleep(pollMs);
  }
}
