/**
 * npm run exercise -- list
 * npm run exercise -- show N [--steps]
 * npm run exercise -- check N --solution FILE [--json OUT] [--seed S] [--wall-limit-ms MS] [--virtual-limit-ms MS]
 * npm run exercise -- verify-all [--seed S]
 *
 * The classroom exercises in Node. `check` runs a student's solution — a module exporting
 * `default async (cluster, store) => { … }` written against the public API (`import … from
 * "rookery"`) — on the exercise's starting state, prints a ✓/✗ checklist, optionally writes
 * Exercism's results.json, and exits non-zero unless every check passes (GitHub Classroom's
 * command grader reads the exit code). `verify-all` proves every exercise fails unsolved and
 * passes with its reference solution.
 *
 * The solution runs in a child process: a solution that blocks the thread (an endless loop
 * without await) cannot be interrupted from inside, so the parent kills the child when the wall
 * limit runs out. Inside the child, the runner enforces the virtual-time limit and a wall limit
 * for promises that never settle.
 */
import { fork } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { exercises, findExercise } from "../exercises/index.ts";
import { runExercise, wallLimitMsDefault, virtualLimitMsDefault } from "../exercises/runner.ts";
import type { CheckLine, RunReport } from "../exercises/runner.ts";
import { resultsJson } from "../exercises/results.ts";
import type { ResultsJson } from "../exercises/results.ts";
import { verifyExercise } from "../exercises/verify.ts";
import type { Exercise, Solution } from "../exercises/types.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const usage = `usage:
  npm run exercise -- list
  npm run exercise -- show N [--steps]
  npm run exercise -- check N --solution FILE [--json OUT] [--seed S] [--wall-limit-ms MS] [--virtual-limit-ms MS]
  npm run exercise -- verify-all [--seed S]
N is the exercise's number in \`list\` or its id. A solution is a module exporting
  export default async (cluster, store) => { … }
that imports what it needs from "rookery"; it may live anywhere.`;

/** The report a child sends its parent: the run's verdict without the (large) record. */
type ReportSummary = Omit<RunReport, "record">;

class UsageError extends Error {}

function parseFlags(
  args: readonly string[],
  allowed: readonly string[],
  booleans: readonly string[] = [],
): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    if (booleans.includes(arg)) {
      flags.set(arg, "true");
      continue;
    }
    if (!allowed.includes(arg)) throw new UsageError(`unknown option ${arg}`);
    const value = args[i + 1];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${arg} needs a value`);
    flags.set(arg, value);
    i++;
  }
  return { positional, flags };
}

function wholeNumber(flags: Map<string, string>, name: string): number | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`${name} needs a whole number, got ${raw}`);
  return value;
}

function exerciseArg(positional: readonly string[]): { exercise: Exercise; number: number } {
  const which = positional[0];
  if (which === undefined)
    throw new UsageError("which exercise? give its number or id (see `list`)");
  const exercise = findExercise(which);
  if (!exercise)
    throw new UsageError(
      `no exercise "${which}"; \`npm run exercise -- list\` shows them (1 to ${exercises.length})`,
    );
  return { exercise, number: exercises.indexOf(exercise) + 1 };
}

/** fromUserCwd resolves a path the way the user typed it: npm run moves to the package root, INIT_CWD is where they were. */
function fromUserCwd(path: string): string {
  return resolve(process.env["INIT_CWD"] ?? process.cwd(), path);
}

/** wrap fits text to the terminal's 100 columns; continuation lines hang under the first word. */
function wrap(text: string, indent: string, hanging = indent, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const prefix = lines.length === 0 ? indent : hanging;
    if (line.length > 0 && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line.length > 0) lines.push((lines.length === 0 ? indent : hanging) + line);
  return lines.join("\n");
}

// --- list and show ------------------------------------------------------------------------------

function list(): void {
  exercises.forEach((exercise, i) => {
    console.log(
      `${String(i + 1).padStart(2)}. ${exercise.title}  [${exercise.id}, ${exercise.checks.length} checks]`,
    );
  });
  console.log(
    `\nnpm run exercise -- show N          the goal, the checks and the hints\nnpm run exercise -- check N --solution FILE`,
  );
}

function show(args: readonly string[]): void {
  const { positional, flags } = parseFlags(args, [], ["--steps"]);
  const { exercise, number } = exerciseArg(positional);
  console.log(`Exercise ${number}: ${exercise.title}`);
  console.log(`(${exercise.section}; id ${exercise.id})\n`);
  console.log(wrap(exercise.goal, "  "));
  const start = exercise.start;
  console.log(
    `\nStarting state: ${start.servers} server(s), seed ${start.seed ?? 1}; the store you get talks to ${start.database ?? "Spade"}.`,
  );
  console.log("\nWhat is checked:");
  for (const check of exercise.checks) console.log(`  ☐ ${check.description}`);
  console.log("\nHints:");
  exercise.hints.forEach((hint, i) => console.log(wrap(`${i + 1}. ${hint}`, "  ", "     ")));
  if (flags.has("--steps")) {
    console.log("\nSolution steps:");
    exercise.solution.steps.forEach((step, i) =>
      console.log(wrap(`${i + 1}. ${step}`, "  ", "     ")),
    );
  } else {
    console.log("\n(--steps shows the reference solution's steps)");
  }
  console.log(
    `\nWrite a module exporting \`export default async (cluster, store) => { … }\` and run:\n  npm run exercise -- check ${number} --solution my-solution.ts`,
  );
}

// --- check --------------------------------------------------------------------------------------

function printReport(report: ReportSummary, number: number): void {
  console.log(`Exercise ${number}: ${report.title} (seed ${report.seed})`);
  for (const line of report.checks)
    console.log(`  ${line.ok ? "✓" : "✗"} ${line.description}\n      ${line.detail}`);
  const passed = report.checks.filter((line) => line.ok).length;
  if (report.status === "pass") console.log(`PASS: all ${report.checks.length} checks hold`);
  else if (report.status === "fail")
    console.log(
      `FAIL: ${passed} of ${report.checks.length} checks hold; the ✗ lines say what is missing`,
    );
  else
    console.log(
      `ERROR: ${report.message ?? "the solution did not finish"}\n(${passed} of ${report.checks.length} checks held when it stopped)`,
    );
}

/** notChecked is the checklist of a run that produced no report (the child was killed or crashed). */
function notChecked(exercise: Exercise, seed: number, message: string): ReportSummary {
  const checks: CheckLine[] = exercise.checks.map((check) => ({
    id: check.id,
    description: check.description,
    ok: false,
    detail: "not checked: the solution did not finish",
  }));
  return { exercise: exercise.id, title: exercise.title, seed, status: "error", message, checks };
}

async function check(args: readonly string[]): Promise<number> {
  const { positional, flags } = parseFlags(args, [
    "--solution",
    "--json",
    "--seed",
    "--wall-limit-ms",
    "--virtual-limit-ms",
  ]);
  const { exercise, number } = exerciseArg(positional);
  const file = flags.get("--solution");
  if (file === undefined)
    throw new UsageError(
      "check needs --solution FILE (a module exporting default async (cluster, store) => { … })",
    );
  const solutionPath = fromUserCwd(file);
  if (!existsSync(solutionPath)) throw new UsageError(`no solution file at ${solutionPath}`);
  const seed = wholeNumber(flags, "--seed") ?? exercise.start.seed ?? 1;
  const wallLimitMs =
    wholeNumber(flags, "--wall-limit-ms") ?? exercise.limits?.wallMs ?? wallLimitMsDefault;
  const virtualLimitMs =
    wholeNumber(flags, "--virtual-limit-ms") ?? exercise.limits?.virtualMs ?? virtualLimitMsDefault;
  const jsonPath = flags.get("--json");

  const report = await runInChild(exercise, solutionPath, { seed, wallLimitMs, virtualLimitMs });
  printReport(report, number);
  if (jsonPath !== undefined) {
    const out = fromUserCwd(jsonPath);
    mkdirSync(dirname(out), { recursive: true });
    const json: ResultsJson = resultsJson(report);
    writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`results.json written to ${out}`);
  }
  return report.status === "pass" ? 0 : 1;
}

function runInChild(
  exercise: Exercise,
  solutionPath: string,
  limits: { seed: number; wallLimitMs: number; virtualLimitMs: number },
): Promise<ReportSummary> {
  return new Promise((resolveReport) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      [
        "__run",
        exercise.id,
        solutionPath,
        String(limits.seed),
        String(limits.virtualLimitMs),
        String(limits.wallLimitMs),
      ],
      {
        execArgv: process.execArgv,
        stdio: ["ignore", "inherit", "pipe", "ipc"],
      },
    );
    let report: ReportSummary | undefined;
    let stderr = "";
    let killedForTime = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on("message", (message) => {
      report = message as ReportSummary;
    });
    // The child enforces the wall limit itself for a solution awaiting forever; this one catches a
    // solution that never yields the thread. A little slack lets the child's clearer message win.
    const timer = setTimeout(() => {
      killedForTime = true;
      child.kill("SIGKILL");
    }, limits.wallLimitMs + 2_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (report) return resolveReport(report);
      if (killedForTime) {
        return resolveReport(
          notChecked(
            exercise,
            limits.seed,
            `the solution ran past its time limit: ${limits.wallLimitMs} ms of real time, without ever giving the cluster a turn (an endless loop with no await?)`,
          ),
        );
      }
      const last = stderr.trim().split("\n").slice(-5).join("\n");
      resolveReport(
        notChecked(
          exercise,
          limits.seed,
          `the checker stopped (${signal ?? `exit code ${code ?? "?"}`}) before reporting${last ? `:\n${last}` : ""}`,
        ),
      );
    });
  });
}

/**
 * loadSolution bundles the solution with esbuild, pointing "rookery" at this repository's engine,
 * and imports the bundle. So a solution file may live anywhere (a student's folder, /tmp) without
 * a package.json that knows "rookery", may use top-level await and relative imports of its own,
 * and shares the engine instance the checker uses.
 */
async function loadSolution(path: string): Promise<Solution> {
  const esbuild = await import("esbuild");
  const engine = pathToFileURL(join(repo, "engine", "index.ts")).href;
  const built = await esbuild.build({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "silent",
    packages: "external",
    plugins: [
      {
        name: "rookery",
        setup(build) {
          build.onResolve({ filter: /^rookery$/ }, () => ({ path: engine, external: true }));
        },
      },
    ],
  });
  const code = built.outputFiles[0]?.text ?? "";
  const cache = join(repo, "node_modules", ".cache", "rookery-exercise");
  mkdirSync(cache, { recursive: true });
  const out = join(
    cache,
    `solution-${createHash("sha256").update(path).update(code).digest("hex").slice(0, 16)}.mjs`,
  );
  writeFileSync(out, code);
  const module = (await import(pathToFileURL(out).href)) as { default?: unknown };
  if (typeof module.default !== "function") {
    throw new Error(
      `${path} must export a function: export default async (cluster, store) => { … }`,
    );
  }
  return module.default as Solution;
}

/** runChild is the child's side of `check`: load, run, report to the parent over IPC. */
async function runChild(args: readonly string[]): Promise<void> {
  const [id = "", path = "", seed = "1", virtualLimitMs = "0", wallLimitMs = "0"] = args;
  const exercise = findExercise(id);
  if (!exercise) throw new Error(`no exercise ${id}`);
  let summary: ReportSummary;
  let solution: Solution | undefined;
  try {
    solution = await loadSolution(path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    summary = notChecked(exercise, Number(seed), `could not load the solution ${path}: ${message}`);
  }
  if (solution) {
    const { record: _record, ...rest } = await runExercise(exercise, solution, {
      seed: Number(seed),
      virtualLimitMs: Number(virtualLimitMs),
      wallLimitMs: Number(wallLimitMs),
    });
    summary = rest;
  }
  await new Promise<void>((done) => process.send?.(summary!, () => done()) ?? done());
  // A solution may leave promises or timers behind; the verdict is in, so leave now.
  process.exit(0);
}

// --- verify-all ---------------------------------------------------------------------------------

async function verifyAll(args: readonly string[]): Promise<number> {
  const { flags } = parseFlags(args, ["--seed"]);
  const seed = wholeNumber(flags, "--seed");
  let broken = 0;
  for (const [i, exercise] of exercises.entries()) {
    const started = Date.now();
    const result = await verifyExercise(exercise, seed !== undefined ? { seed } : {});
    const failing = result.unsolved.checks.filter((line) => !line.ok).length;
    const passing = result.solved.checks.filter((line) => line.ok).length;
    const ms = Date.now() - started;
    if (result.problems.length === 0) {
      console.log(
        `✓ ${String(i + 1).padStart(2)}. ${exercise.id}: unsolved fails (${failing}/${exercise.checks.length} checks open), reference passes (${passing}/${exercise.checks.length}) [${ms} ms]`,
      );
    } else {
      broken++;
      console.log(`✗ ${String(i + 1).padStart(2)}. ${exercise.id}:`);
      for (const problem of result.problems) console.log(`      ${problem}`);
    }
  }
  console.log(
    broken === 0
      ? `all ${exercises.length} exercises verified`
      : `${broken} of ${exercises.length} exercises are broken`,
  );
  return broken === 0 ? 0 : 1;
}

// --- main ---------------------------------------------------------------------------------------

/** main runs one command and returns the exit code (2 for a usage error, which it prints). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await command(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
}

async function command(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case "list":
      list();
      return 0;
    case "show":
      show(rest);
      return 0;
    case "check":
      return check(rest);
    case "verify-all":
      return verifyAll(rest);
    case "__run":
      await runChild(rest);
      return 0;
    case undefined:
    case "help":
    case "--help":
      console.log(usage);
      return name === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}

// Run only as a program (npm run exercise, or the child of `check`), not when a test imports main().
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
