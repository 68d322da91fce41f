/** ReplayOptions name one seed of a sweep, as `npm run sim` takes it. */
export interface ReplayOptions {
  readonly workload: "raft" | "db";
  readonly nodes: number;
  readonly seed: number;
  readonly chaosMs?: number;
}

/** replayCommand is the one line that replays a seed exactly, printed with every failure. */
export function replayCommand(options: ReplayOptions): string {
  const workload = options.workload === "raft" ? "" : ` --workload ${options.workload}`;
  const chaos = options.chaosMs === undefined ? "" : ` --chaos-ms ${options.chaosMs}`;
  return `npm run sim --${workload} --nodes ${options.nodes} --seed ${options.seed}${chaos}`;
}
