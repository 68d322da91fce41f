import { RookeryError } from "../core/index.ts";
import type { ConflictResolution } from "./conflicts.ts";

/** RevisionsSwitch turns revisions on or off for a collection (or for all, as the default). */
export interface RevisionsSwitch {
  readonly enabled: boolean;
}

/**
 * RevisionsConfiguration mirrors the database record's revisions settings: a default for every
 * collection plus per-collection overrides (collection names compare case-insensitively).
 */
export interface RevisionsConfiguration {
  readonly default?: RevisionsSwitch;
  readonly collections?: Readonly<Record<string, RevisionsSwitch>>;
}

/** DatabaseSettings are the cluster-wide settings an instance follows. */
export interface DatabaseSettings {
  readonly revisions?: RevisionsConfiguration;
  readonly conflictResolution?: ConflictResolution;
}

/** revisionsEnabled tells whether writes to `collection` keep revisions. */
export function revisionsEnabled(
  config: RevisionsConfiguration | undefined,
  collection: string,
): boolean {
  if (config === undefined) return false;
  const wanted = collection.toLowerCase();
  for (const [name, setting] of Object.entries(config.collections ?? {})) {
    if (name.toLowerCase() === wanted) return setting.enabled;
  }
  return config.default?.enabled ?? false;
}

/** validateSettings refuses settings a database record could not hold. */
export function validateSettings(settings: DatabaseSettings): DatabaseSettings {
  const resolution = settings.conflictResolution;
  if (resolution !== undefined && resolution !== "latest" && resolution !== "none") {
    throw new RookeryError(
      "InvalidDatabaseSettings",
      `conflictResolution must be "latest" or "none", got ${JSON.stringify(resolution)}`,
    );
  }
  return settings;
}
