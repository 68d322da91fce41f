import { isRookeryError } from "../../engine/core/index.ts";
import { DatabaseInstance, type DatabaseSettings } from "../../engine/database/index.ts";

export function instance(settings: DatabaseSettings = {}, tag = "A"): DatabaseInstance {
  return new DatabaseInstance({
    database: "Spade",
    nodeTag: tag,
    databaseId: `db${tag}id`,
    settings,
  });
}

/** refusal runs `action` and returns the RookeryError it throws (failing when it throws none). */
export function refusal(action: () => unknown): {
  code: string;
  message: string;
  details: Readonly<Record<string, unknown>>;
} {
  try {
    action();
  } catch (error) {
    if (isRookeryError(error)) return error;
    throw error;
  }
  throw new Error("expected a RookeryError, nothing was thrown");
}
