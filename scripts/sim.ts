/**
 * npm run sim -- [--workload raft|db|fuzz] --seeds N [--nodes 3|5] [--seed S] [--from F]
 *                [--chaos-ms MS] [--requests N]
 *
 * Sweeps seeds: each runs Rachis under a random command load and random faults (loss, duplication,
 * reordering, partitions both ways and one way, crashes and restarts, compaction, and on five
 * nodes membership changes) with the invariant checkers on, then heals and demands progress.
 * A failure prints the seed, the broken property, the last steps, and a command that replays it.
 * --workload db runs the database layer the same way; --workload fuzz sends each seed's
 * --requests (default 10,000) random and malformed requests to the servers' boundary.
 */
import { runDbSeed, runFuzzSeed, runRaftSeed } from "../engine/runtime/sim/index.ts";
import type { FuzzResult, SeedVerdict } from "../engine/runtime/sim/index.ts";

interface Args {
  seeds: number;
  from: number;
  nodes: (3 | 5)[];
  seed: number | undefined;
  chaosMs: number | undefined;
  requests: number;
  workload: "raft" | "db" | "fuzz";
}

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run sim -- [--workload raft|db|fuzz] --seeds N [--nodes 3|5] [--seed S] [--from F] [--chaos-ms MS] [--requests N]\n`,
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
    requests: 10_000,
    workload: "raft",
  };
  let nodesGiven = false;
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
      case "--requests":
        args.requests = number();
        break;
      case "--nodes": {
        const n = number();
        if (n !== 3 && n !== 5) usage(`--nodes takes 3 or 5, got ${n}`);
        args.nodes = [n];
        nodesGiven = true;
        break;
      }
      case "--workload":
        if (value !== "raft" && value !== "db" && value !== "fuzz")
          usage(`--workload takes raft, db or fuzz, got ${value ?? "nothing"}`);
        args.workload = value;
        i++;
        break;
      default:
        usage(`unknown option ${flag}`);
    }
  }
  // The fuzzer's default is one cluster size: it fuzzes the boundary, not the size.
  if (args.workload === "fuzz" && !nodesGiven) args.nodes = [3];
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
  const chaos = args.chaosMs === undefined ? "" : ` --chaos-ms ${args.chaosMs}`;
  const workload = args.workload === "raft" ? "" : ` --workload ${args.workload}`;
  const requests = args.workload === "fuzz" ? ` --requests ${args.requests}` : "";
  console.log(`\nFAIL seed ${result.seed} on ${nodes} nodes: ${result.broken}`);
  console.log(`  ${result.message}`);
  console.log(`  last steps (virtual time):`);
  for (const line of result.trace) console.log(`    ${line}`);
  console.log(
    `  replay: npm run sim --${workload} --nodes ${nodes} --seed ${result.seed}${chaos}${requests}`,
  );
}

const args = parseArgs(process.argv.slice(2));

async function runSeed(seed: number, nodes: 3 | 5): Promise<SeedVerdict> {
  const chaos = args.chaosMs ? { chaosMs: args.chaosMs } : {};
  if (args.workload === "raft")
    return runRaftSeed(seed, { nodes, membershipChanges: nodes === 5, ...chaos });
  if (args.workload === "fuzz") {
    const result = await runFuzzSeed(seed, { servers: nodes, requests: args.requests });
    tally(result);
    return result;
  }
  return await runDbSeed(seed, { servers: nodes, ...chaos });
}

/** What the fuzzed servers answered, over every seed. */
const answers = { sent: 0, succeeded: 0, refused: {} as Record<string, number> };
function tally(result: FuzzResult): void {
  answers.sent += result.sent;
  answers.succeeded += result.succeeded;
  for (const [code, n] of Object.entries(result.refused))
    answers.refused[code] = (answers.refused[code] ?? 0) + n;
}
const started = performance.now();
let failures = 0;
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
      if (process.stderr.isTTY) process.stderr.write("\n");
      report(result, nodes, args);
    }
    if (k % 10 === 9 || k === seeds.length - 1)
      bar(k + 1, seeds.length, failures, `${args.workload} ${nodes} nodes`);
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
}
const wallMs = performance.now() - started;
if (args.workload === "fuzz") {
  const refusals = Object.entries(answers.refused)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");
  console.log(
    `${answers.sent} requests and messages sent, ${answers.succeeded} succeeded; refused: ${refusals}`,
  );
}
console.log(
  `${runs} runs, ${failures} failed, ${(virtualMs / 1000).toFixed(0)} simulated s in ${(wallMs / 1000).toFixed(1)} s wall (${Math.round(virtualMs / wallMs)}× real time)`,
);
process.exit(failures > 0 ? 1 : 0);
