/** ReplayOptions name one seed of a sweep, as `npm run sim` takes it. */
export interface ReplayOptions {
  readonly workload: "raft" | "db" | "fuzz";
  readonly nodes: number;
  readonly seed: number;
  readonly chaosMs?: number;
  /** fuzz: the requests each seed sends. */
  readonly requests?: number;
}

/**
 * replayCommand is the one line that replays a seed exactly, printed with every failure.
 * `program` is how the sweep is run where it is printed (`npx rookery sim` from the package).
 */
export function replayCommand(options: ReplayOptions, program = "npm run sim --"): string {
  const workload = options.workload === "raft" ? "" : ` --workload ${options.workload}`;
  const chaos = options.chaosMs === undefined ? "" : ` --chaos-ms ${options.chaosMs}`;
  const requests = options.requests === undefined ? "" : ` --requests ${options.requests}`;
  return `${program}${workload} --nodes ${options.nodes} --seed ${options.seed}${chaos}${requests}`;
}
