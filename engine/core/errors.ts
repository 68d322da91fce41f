/**
 * RookeryError is the one error type users see. `code` is stable and machine-readable; the message
 * says what was wrong and what to do about it.
 */
export class RookeryError extends Error {
  override name = "RookeryError";
  constructor(
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** isRookeryError narrows an unknown thrown value, optionally to one code. */
export function isRookeryError(error: unknown, code?: string): error is RookeryError {
  return error instanceof RookeryError && (code === undefined || error.code === code);
}
