/**
 * rookery sim: sweeps seeds. Each runs Rachis (or the database layer) under random load and
 * random faults (loss, duplication, reordering, partitions both ways and one way, crashes and
 * restarts, compaction, and on five nodes membership changes) with the invariant checkers on,
 * then heals and demands progress. A failure prints the seed, the broken property, the last steps
 * and a command that replays it. A per-seed watchdog (events and virtual time) turns a seed that
 * would never end into a failure ("stalled") with the same replay line. --workload fuzz sends each
 * seed's --requests random and malformed requests to the servers' boundary instead.
 */
import {
  replayCommand,
  runDbSeed,
  runFuzzSeed,
  runRaftSeed,
} from "../../engine/runtime/sim/index.ts";
import type { FuzzResult, SeedVerdict } from "../../engine/runtime/sim/index.ts";
import { seedMax, UsageError } from "../command.ts";
import type { Args, CommandSpec, Output } from "../command.ts";
import { Progress } from "../progress.ts";
import { invocation } from "../where.ts";

/** The most seeds one sweep takes (per node count). */
const seedsMax = 1_000_000;
const seedsDefault = 100;
/** Requests each fuzz seed sends unless --requests says. */
const fuzzRequestsDefault = 10_000;

type Workload = "raft" | "db" | "fuzz";

interface Sweep {
  readonly workload: Workload;
  readonly seeds: readonly number[];
  readonly nodes: readonly (3 | 5)[];
  readonly chaosMs: number | undefined;
  /** fuzz: requests per seed. */
  readonly requests: number;
}

function sweepOf(args: Args): Sweep {
  const workload = args.choice("workload", ["raft", "db", "fuzz"] as const) ?? "raft";
  const nodesArg = args.choice("nodes", ["3", "5"] as const);
  // The fuzzer's default is one size: it fuzzes the boundary, not the cluster's size.
  const sizes: (3 | 5)[] = workload === "fuzz" ? [3] : [3, 5];
  const nodes: (3 | 5)[] = nodesArg === undefined ? sizes : [Number(nodesArg) as 3 | 5];
  const chaosMs = args.whole("chaos-ms", { min: 1, max: 3_600_000 });
  const requests = args.whole("requests", { min: 1, max: 10_000_000 }) ?? fuzzRequestsDefault;
  if (args.has("requests") && workload !== "fuzz")
    throw new UsageError("--requests is for --workload fuzz");
  const seed = args.whole("seed", { min: 0, max: seedMax });
  if (seed !== undefined) {
    if (args.has("seeds") || args.has("from"))
      throw new UsageError("--seed replays one seed; --seeds and --from choose a sweep");
    return { workload, seeds: [seed], nodes, chaosMs, requests };
  }
  const count = args.whole("seeds", { min: 1, max: seedsMax }) ?? seedsDefault;
  const from = args.whole("from", { min: 0, max: seedMax }) ?? 1;
  if (from + count - 1 > seedMax)
    throw new UsageError(
      `--from ${from} with --seeds ${count} goes past the last seed, ${seedMax}; seeds are 32-bit`,
    );
  const seeds = Array.from({ length: count }, (_, k) => from + k);
  return { workload, seeds, nodes, chaosMs, requests };
}

/** Fuzz answers over every seed: how many were sent, succeeded, and refused by code. */
class FuzzTally {
  sent = 0;
  succeeded = 0;
  readonly refused: Record<string, number> = {};

  add(result: FuzzResult): void {
    this.sent += result.sent;
    this.succeeded += result.succeeded;
    for (const [code, n] of Object.entries(result.refused))
      this.refused[code] = (this.refused[code] ?? 0) + n;
  }

  toString(): string {
    const refusals = Object.entries(this.refused)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} ${n}`)
      .join(", ");
    return `${this.sent} requests and messages sent, ${this.succeeded} succeeded; refused: ${refusals}\n`;
  }
}

async function runSeed(
  sweep: Sweep,
  seed: number,
  nodes: 3 | 5,
  tally: FuzzTally,
): Promise<SeedVerdict> {
  const chaos = sweep.chaosMs !== undefined ? { chaosMs: sweep.chaosMs } : {};
  if (sweep.workload === "raft")
    return runRaftSeed(seed, { nodes, membershipChanges: nodes === 5, ...chaos });
  if (sweep.workload === "fuzz") {
    const result = await runFuzzSeed(seed, { servers: nodes, requests: sweep.requests });
    tally.add(result);
    return result;
  }
  return await runDbSeed(seed, { servers: nodes, ...chaos });
}

/** failureReport is what a failing seed prints: the property, the last steps, a replay line. */
function failureReport(result: SeedVerdict, nodes: number, sweep: Sweep): string {
  const replay = replayCommand(
    {
      workload: sweep.workload,
      nodes,
      seed: result.seed,
      ...(sweep.chaosMs === undefined ? {} : { chaosMs: sweep.chaosMs }),
      ...(sweep.workload === "fuzz" ? { requests: sweep.requests } : {}),
    },
    invocation("sim"),
  );
  return [
    `FAIL seed ${result.seed} on ${nodes} nodes: ${result.broken}`,
    `  ${result.message}`,
    `  last steps (virtual time):`,
    ...result.trace.map((line) => `    ${line}`),
    `  replay: ${replay}`,
    "",
  ].join("\n");
}

/** plan says in words what the sweep will run, and how many runs that is. */
function plan(sweep: Sweep): string {
  const seeds =
    sweep.seeds.length === 1
      ? `seed ${sweep.seeds[0]}`
      : `seeds ${sweep.seeds[0]}..${sweep.seeds[sweep.seeds.length - 1]}`;
  const nodes = sweep.nodes.join(" and ");
  const runs = sweep.seeds.length * sweep.nodes.length;
  const times =
    sweep.nodes.length > 1 ? ` (${sweep.seeds.length} seeds × ${sweep.nodes.length} sizes)` : "";
  return `sim ${sweep.workload}: ${seeds} on ${nodes} nodes = ${runs} run${runs === 1 ? "" : "s"}${times}`;
}

export const simCommand: CommandSpec = {
  name: "sim",
  summary: "sweep seeds: Rachis or the database layer under random faults, checkers on",
  usage: [
    "[--workload raft|db] [--seeds N] [--from F] [--nodes 3|5] [--chaos-ms MS]",
    "[--workload raft|db] --seed S [--nodes 3|5] [--chaos-ms MS]",
    "--workload fuzz [--seeds N] [--from F] [--requests N]",
  ],
  description: [
    "Each seed runs a cluster in virtual time under a random load and random faults (message loss,",
    "duplication and reordering, partitions, crashes and restarts, compaction; on five nodes also",
    "membership changes), with the invariant checkers on after every step, then heals the network",
    "and demands progress. The same seed replays the same run.",
    "",
    `--seeds N runs seeds F..F+N-1 (F is 1 unless --from says) on 3 nodes and again on 5 nodes:`,
    `that is 2N runs, or N with --nodes. Without --seeds, N is ${seedsDefault}. Progress goes to stderr: a bar`,
    "on a terminal, otherwise a line every few seconds (ROOKERY_PROGRESS_MS sets the interval).",
    "A failing seed prints the broken property, the last steps and a command that replays it;",
    "the exit code is 1 when any seed failed.",
    "",
    `--workload fuzz sends each seed's --requests (default ${fuzzRequestsDefault}) random, mutated and`,
    "malformed requests and peer messages to every server of a 3-node cluster: every answer must",
    "be a success or a named error, no server may die, and a normal write must succeed after.",
  ].join("\n"),
  options: {
    workload: {
      type: "string",
      value: "raft|db|fuzz",
      help: "raft: Rachis alone (default); db: servers, databases, replication and clients; fuzz: the servers' boundary",
    },
    requests: {
      type: "string",
      value: "N",
      help: `fuzz: requests and messages each seed sends (default ${fuzzRequestsDefault})`,
    },
    seeds: {
      type: "string",
      value: "N",
      help: `how many seeds (default ${seedsDefault}); each runs once per node count`,
    },
    from: { type: "string", value: "F", help: "the first seed of the sweep (default 1)" },
    seed: { type: "string", value: "S", help: "run this one seed (to replay a failure)" },
    nodes: { type: "string", value: "3|5", help: "only this cluster size (default: both)" },
    "chaos-ms": {
      type: "string",
      value: "MS",
      help: "virtual ms of faults before the network heals (raft 30000, db 8000)",
    },
  },
  examples: [
    {
      command: "rookery sim --seeds 2000",
      what: "4000 runs of Rachis: seeds 1..2000 on 3 and 5 nodes",
    },
    { command: "rookery sim --workload db --seeds 20", what: "the database layer: 40 runs" },
    { command: "rookery sim --nodes 5 --seed 1234", what: "replay one seed on five nodes" },
    { command: "rookery sim --seeds 500 --from 10001 --nodes 3", what: "another 500 seeds" },
    {
      command: "rookery sim --workload fuzz --seeds 10",
      what: "100,000 random and malformed requests at the servers",
    },
  ],

  async run(args: Args, out: Output): Promise<number> {
    const sweep = sweepOf(args);
    const total = sweep.seeds.length * sweep.nodes.length;
    out.stderr.write(`${plan(sweep)}\n`);
    const progress = new Progress({
      label: `sim ${sweep.workload}`,
      total,
      unit: "runs",
      stream: out.stderr,
    });
    const started = performance.now();
    let failures = 0;
    let stalled = 0;
    let virtualMs = 0;
    let runs = 0;
    const tally = new FuzzTally();
    try {
      for (const nodes of sweep.nodes) {
        for (const seed of sweep.seeds) {
          const result = await runSeed(sweep, seed, nodes, tally);
          runs++;
          virtualMs += result.virtualMs;
          if (!result.ok) {
            failures++;
            if (result.broken === "stalled") stalled++;
            progress.clear();
            out.stdout.write(failureReport(result, nodes, sweep));
          }
          progress.update(runs, failures);
        }
      }
    } finally {
      progress.finish();
    }
    const wallMs = performance.now() - started;
    if (sweep.workload === "fuzz") out.stdout.write(tally.toString());
    out.stdout.write(
      `${runs} run${runs === 1 ? "" : "s"}, ${failures} failed (${stalled} stalled), ${(virtualMs / 1000).toFixed(0)} simulated s in ${(wallMs / 1000).toFixed(1)} s wall (${Math.round(virtualMs / Math.max(1, wallMs))}× real time)\n`,
    );
    return failures > 0 ? 1 : 0;
  },
};
