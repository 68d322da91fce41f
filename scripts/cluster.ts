/**
 * npm run cluster -- [--servers N] [--runtime worker|sim] [--storage fs|memory] [--data-dir DIR] [--seed S]
 *
 * An interactive prompt over a running cluster, its commands mirroring the Studio's actions in the
 * chapter (type help). The worker runtime (the default) runs one Web Worker per server in real
 * time, on fs storage in DIR/1, DIR/2 … (a temporary folder when --data-dir is not given); the sim
 * runtime runs them in one thread on virtual time. Lines can also be piped in:
 *   printf 'create-database Spade\nput A Spade users/1 {"name":"Oren"}\n' | npm run cluster
 */
import { createInterface } from "node:readline";
import { Cluster } from "../engine/index.ts";
import type { ClusterOptions } from "../engine/index.ts";
import { createInterpreter } from "../engine/runtime/cli/commands.ts";

const usage =
  "usage: npm run cluster -- [--servers N] [--runtime worker|sim] [--storage fs|memory] [--data-dir DIR] [--seed S]";

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const flags = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const flag = argv[i]!;
  if (!["--servers", "--runtime", "--storage", "--data-dir", "--seed"].includes(flag))
    fail(`unknown option ${flag}`);
  const value = argv[++i];
  if (value === undefined || value.startsWith("--")) fail(`${flag} needs a value`);
  flags.set(flag, value);
}
const servers = Number(flags.get("--servers") ?? 2);
if (!Number.isInteger(servers) || servers < 1 || servers > 26)
  fail("--servers needs a whole number from 1 to 26");
const runtime = flags.get("--runtime") ?? "worker";
if (runtime !== "worker" && runtime !== "sim") fail(`--runtime ${runtime}: use worker or sim`);
const storage = flags.get("--storage");
if (storage !== undefined && storage !== "fs" && storage !== "memory")
  fail(`--storage ${storage}: use fs or memory`);
if (runtime === "sim" && (storage === "fs" || flags.has("--data-dir")))
  fail(
    "the sim runtime keeps data in memory; --storage fs and --data-dir are for --runtime worker",
  );
if (flags.has("--data-dir") && storage === "memory") fail("--data-dir goes with --storage fs");
const seed = Number(flags.get("--seed") ?? 1);
if (!Number.isInteger(seed)) fail("--seed needs a whole number");

const options: ClusterOptions =
  runtime === "sim"
    ? { runtime: "sim", servers, seed }
    : {
        runtime: "worker",
        servers,
        seed,
        ...(storage ? { storage: storage as "fs" | "memory" } : {}),
        ...(flags.has("--data-dir") ? { dataDir: flags.get("--data-dir")! } : {}),
      };
const cluster = await Cluster.start(options);

const interactive = process.stdin.isTTY === true;
const rl = createInterface({
  input: process.stdin,
  output: process.stdout,
  terminal: interactive,
  historySize: 500,
  prompt: "rookery> ",
  completer: (line: string): [string[], string] => {
    const hits = interpreter.names.filter((name) => name.startsWith(line.trim()));
    return [hits.length > 0 ? hits : [...interpreter.names], line];
  },
});
const interpreter = createInterpreter(cluster, {
  print: (text) => {
    // Trace lines arrive while the prompt waits: print them above it, then redraw the prompt.
    if (interactive) process.stdout.write(`\r\x1b[K${text}\n`);
    else console.log(text);
    if (interactive) rl.prompt(true);
  },
});

console.log(
  `${servers} fresh server${servers === 1 ? "" : "s"} (${runtime}${runtime === "worker" ? `, ${storage ?? "fs"} storage${flags.has("--data-dir") ? ` in ${flags.get("--data-dir")}` : ""}` : ""}): ${cluster.urls.join(", ")}`,
);
console.log("type help for the commands, quit to leave");

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  interpreter.dispose();
  rl.close();
  await cluster.stop();
}

// One line at a time, in order, even when lines are piped in faster than commands finish.
let queue: Promise<void> = Promise.resolve();
let failures = 0;
rl.on("line", (line) => {
  queue = queue.then(async () => {
    if (closing) return;
    if (!interactive && line.trim() !== "") console.log(`rookery> ${line}`);
    try {
      const result = await interpreter.execute(line);
      if (result.text) console.log(result.text);
      if (!result.ok) failures++;
      if (result.quit) return await close();
    } catch (error) {
      failures++;
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    if (interactive) rl.prompt();
  });
});
rl.on("close", () => {
  // End of piped input (or Ctrl-D): finish what is queued, then stop the cluster.
  queue = queue.then(close).then(() => {
    if (!interactive) process.exitCode = failures > 0 ? 1 : 0;
  });
});
rl.on("SIGINT", () => void queue.then(close));
if (interactive) rl.prompt();
