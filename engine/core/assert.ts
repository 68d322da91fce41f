/**
 * AssertionError is thrown when an invariant of the engine does not hold. It is a bug, never bad
 * input: bad input gets a RookeryError with a message that says what to do.
 */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** assert stops the program when `condition` is false; `message` should include the state. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === "function" ? message() : message);
  }
}

/** unreachable marks the end of an exhaustive switch over a tagged union. */
export function unreachable(value: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
