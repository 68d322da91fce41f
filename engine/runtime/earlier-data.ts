import { RookeryError } from "../core/index.ts";

/**
 * earlierData decides what a cluster started on a given data folder does with the server folders
 * an earlier run left there (`found`, 0-based): with `fresh: true` it wipes them (`wipe`) and
 * starts `servers` fresh servers; with `fresh: false` it recovers them, starting every server
 * found even beyond `servers`; without `fresh` it refuses with ExistingData, saying both.
 */
export function earlierData(
  dataDir: string,
  found: readonly number[],
  servers: number,
  fresh: boolean | undefined,
  folderOf: (index: number) => string,
): { readonly count: number; readonly wipe: readonly number[] } {
  if (found.length === 0) return { count: servers, wipe: [] };
  if (fresh === true) return { count: servers, wipe: found };
  if (fresh === false) return { count: Math.max(servers, found[found.length - 1]! + 1), wipe: [] };
  throw new RookeryError(
    "ExistingData",
    `${dataDir} holds data from an earlier run (${found.length === 1 ? "a server folder" : `${found.length} server folders`}: ${found.map(folderOf).join(", ")}). ` +
      "Start with fresh: true to wipe those folders and begin again, or fresh: false to recover those servers.",
    { dataDir, servers: found.map((index) => index + 1) },
  );
}
