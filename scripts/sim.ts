/**
 * npm run sim -- --seeds N [--nodes 3|5] [--seed S] [--from F] [--chaos-ms MS]
 *
 * Sweeps seeds: each runs Rachis under a random command load and random faults (loss, duplication,
 * reordering, partitions both ways and one way, crashes and restarts, compaction, and on five
 * nodes membership changes) with the invariant checkers on, then heals and demands progress.
 * A failure prints the seed, the broken property, the last steps, and a command that replays it.
 * A per-seed watchdog (events and virtual time) turns a seed that would never end into a
 * failure ("stalled") with the same replay line.
 */
import { replayCommand, runDbSeed, runRaftSeed } from "../engine/runtime/sim/index.ts";
import type { SeedVerdict } from "../engine/runtime/sim/index.ts";

interface Args {
  seeds: number;
  from: number;
  nodes: (3 | 5)[];
  seed: number | undefined;
  chaosMs: number | undefined;
  workload: "raft" | "db";
}

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run sim -- [--workload raft|db] --seeds N [--nodes 3|5] [--seed S] [--from F] [--chaos-ms MS]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    seeds: 100,
    from: 1,
    nodes: [3, 5],
    seed: undefined,
    chaosMs: undefined,
    workload: "raft",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const number = (): number => {
      const parsed = Number(value);
      if (value === undefined || !Number.isInteger(parsed) || parsed < 0)
        usage(`${flag} needs a whole number, got ${value ?? "nothing"}`);
      i++;
      return parsed;
    };
    switch (flag) {
      case "--seeds":
        args.seeds = number();
        break;
      case "--from":
        args.from = number();
        break;
      case "--seed":
        args.seed = number();
        break;
      case "--chaos-ms":
        args.chaosMs = number();
        break;
      case "--nodes": {
        const n = number();
        if (n !== 3 && n !== 5) usage(`--nodes takes 3 or 5, got ${n}`);
        args.nodes = [n];
        break;
      }
      case "--workload":
        if (value !== "raft" && value !== "db")
          usage(`--workload takes raft or db, got ${value ?? "nothing"}`);
        args.workload = value;
        i++;
        break;
      default:
        usage(`unknown option ${flag}`);
    }
  }
  return args;
}

function bar(done: number, total: number, failures: number, label: string): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(
    `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} failures ${failures}`,
  );
}

function report(result: SeedVerdict, nodes: number, args: Args): void {
  console.log(`\nFAIL seed ${result.seed} on ${nodes} nodes: ${result.broken}`);
  console.log(`  ${result.message}`);
  console.log(`  last steps (virtual time):`);
  for (const line of result.trace) console.log(`    ${line}`);
  const replay = replayCommand({
    workload: args.workload,
    nodes,
    seed: result.seed,
    ...(args.chaosMs === undefined ? {} : { chaosMs: args.chaosMs }),
  });
  console.log(`  replay: ${replay}`);
}

const args = parseArgs(process.argv.slice(2));

async function runSeed(seed: number, nodes: 3 | 5): Promise<SeedVerdict> {
  const chaos = args.chaosMs ? { chaosMs: args.chaosMs } : {};
  if (args.workload === "raft")
    return runRaftSeed(seed, { nodes, membershipChanges: nodes === 5, ...chaos });
  return await runDbSeed(seed, { servers: nodes, ...chaos });
}
const started = performance.now();
let failures = 0;
let stalled = 0;
let virtualMs = 0;
let runs = 0;
for (const nodes of args.nodes) {
  const seeds =
    args.seed !== undefined
      ? [args.seed]
      : Array.from({ length: args.seeds }, (_, k) => args.from + k);
  for (const [k, seed] of seeds.entries()) {
    const result = await runSeed(seed, nodes);
    runs++;
    virtualMs += result.virtualMs;
    if (!result.ok) {
      failures++;
      if (result.broken === "stalled") stalled++;
      if (process.stderr.isTTY) process.stderr.write("\n");
      report(result, nodes, args);
    }
    if (k % 10 === 9 || k === seeds.length - 1)
      bar(k + 1, seeds.length, failures, `${args.workload} ${nodes} nodes`);
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
}
const wallMs = performance.now() - started;
console.log(
  `${runs} runs, ${failures} failed (${stalled} stalled), ${(virtualMs / 1000).toFixed(0)} simulated s in ${(wallMs / 1000).toFixed(1)} s wall (${Math.round(virtualMs / wallMs)}× real time)`,
);
process.exit(failures > 0 ? 1 : 0);
