/**
 * The options `cluster` and `walkthrough` share: where the servers run (--runtime), keep their
 * data (--storage, --data-dir) and what to do with an earlier run's folders (--fresh), checked
 * together, and the ClusterOptions they make.
 */
import type { ClusterOptions } from "../engine/index.ts";
import { serverFoldersWithData } from "../engine/runtime/host/node-platform.ts";
import { seedMax, UsageError } from "./command.ts";
import type { Args } from "./command.ts";
import { userPath } from "./where.ts";

/** ClusterChoice is what the command line asked for, checked. */
export interface ClusterChoice {
  readonly runtime: "sim" | "worker";
  readonly storage: "fs" | "memory" | undefined;
  /** --data-dir resolved where the user typed it. */
  readonly dataDir: string | undefined;
  readonly fresh: boolean;
  readonly seed: number;
  /** The servers (0-based) whose folders under dataDir an earlier run filled. */
  readonly found: readonly number[];
}

/** clusterChoice reads and checks the shared options; `runtime` is the command's default. */
export async function clusterChoice(args: Args, runtime: "sim" | "worker"): Promise<ClusterChoice> {
  const chosen = args.choice("runtime", ["sim", "worker"] as const) ?? runtime;
  const storage = args.choice("storage", ["fs", "memory"] as const);
  const raw = args.string("data-dir");
  const fresh = args.flag("fresh");
  const seed = args.whole("seed", { min: 0, max: seedMax }) ?? 1;
  if (chosen === "sim" && (storage !== undefined || raw !== undefined || fresh))
    throw new UsageError(
      "--storage, --data-dir and --fresh are for --runtime worker; the sim runtime keeps its data in memory",
    );
  if (raw === "") throw new UsageError("--data-dir needs a folder");
  if (raw !== undefined && storage === "memory")
    throw new UsageError("--data-dir goes with --storage fs (memory storage keeps no folders)");
  if (fresh && raw === undefined)
    throw new UsageError(
      "--fresh wipes the server folders of --data-dir; without --data-dir every run starts fresh",
    );
  const dataDir = raw === undefined ? undefined : userPath(raw);
  const found = dataDir === undefined ? [] : await serverFoldersWithData(dataDir);
  return { runtime: chosen, storage, dataDir, fresh, seed, found };
}

/** clusterOptions is the Cluster.start options for `servers` servers as chosen. */
export function clusterOptions(choice: ClusterChoice, servers: number): ClusterOptions {
  const { runtime, storage, dataDir, fresh, seed } = choice;
  if (runtime === "sim") return { runtime, servers, seed };
  return {
    runtime,
    servers,
    seed,
    ...(storage ? { storage } : {}),
    ...(dataDir !== undefined ? { dataDir, fresh } : {}),
  };
}

/** wipedNote says what --fresh removed, or nothing when it removed nothing. */
export function wipedNote(choice: ClusterChoice): string {
  const count = choice.fresh ? choice.found.length : 0;
  return count === 0
    ? ""
    : `--fresh: wiped ${count} server folder${count === 1 ? "" : "s"} in ${choice.dataDir}\n`;
}
