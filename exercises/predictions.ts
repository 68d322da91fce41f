/**
 * What the prediction exercises share (10: without a majority; 11: each side of a partition): the
 * predictions document a solution writes to Spade before it breaks anything, the check that every
 * prediction is there, and the verdict on one operation against its prediction. Pure, like
 * history.ts.
 */
import { fail, list, pass, requestsOf } from "./history.ts";
import type { CheckResult, RequestRecord, RunRecord } from "./types.ts";

/** Predictions maps an operation's name to what was predicted for it ("ok" or "fail"). */
export type Predictions = Readonly<Record<string, unknown>>;

/** predictionsBefore reads the last predictions document `id` written to Spade before `beforeMs`. */
export function predictionsBefore(
  record: RunRecord,
  id: string,
  beforeMs: number,
): Predictions | undefined {
  const write = requestsOf(record, "batch", "Spade")
    .filter((r) => r.ok && r.atMs < beforeMs)
    .flatMap((r) => r.puts ?? [])
    .filter((p) => p.id === id)
    .pop();
  return write && typeof write.body === "object" && write.body !== null
    ? (write.body as Predictions)
    : undefined;
}

/** everyPredicted: the document exists and says "ok" or "fail" for each operation. */
export function everyPredicted(
  predicted: Predictions | undefined,
  names: readonly string[],
  missing: string,
): CheckResult {
  if (!predicted) return fail(missing);
  const bad = names.filter((name) => predicted[name] !== "ok" && predicted[name] !== "fail");
  return bad.length === 0
    ? pass(names.map((name) => `${name}: ${String(predicted[name])}`).join(", "))
    : fail(`${list(bad)} must be "ok" or "fail"`);
}

/**
 * verdict compares the attempts at one operation (at least one) with its prediction: it
 * succeeded if any attempt did.
 */
export function verdict(
  tried: readonly RequestRecord[],
  predicted: Predictions | undefined,
  name: string,
): CheckResult {
  const ok = tried.find((r) => r.ok);
  const last = tried[tried.length - 1]!;
  const how = ok ? `succeeded on ${ok.tag}` : `failed: ${last.code ?? "?"} on ${last.tag}`;
  const guess = predicted?.[name];
  if (guess === undefined) return fail(`${how}; there was no prediction for "${name}"`);
  return guess === (ok ? "ok" : "fail")
    ? pass(`${how} — you predicted "${String(guess)}"`)
    : fail(`${how} — you predicted "${String(guess)}"`);
}
