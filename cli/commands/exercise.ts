/**
 * rookery exercise: the classroom exercises in Node. `check` runs a student's solution — a module
 * exporting `default async (cluster, store) => { … }` written against the public API (`import …
 * from "rookery"`) — on the exercise's starting state, prints a ✓/✗ checklist, optionally writes
 * Exercism's results.json, and exits non-zero unless every check passes (GitHub Classroom's
 * command grader reads the exit code). `verify-all` proves every exercise fails unsolved and
 * passes with its reference solution.
 *
 * The solution runs in a child process (cli/exercise-child.ts): a solution that blocks the thread
 * (an endless loop without await) cannot be interrupted from inside, so the parent kills the child
 * when the wall limit runs out. Inside the child, the runner enforces the virtual-time limit and a
 * wall limit for promises that never settle.
 */
import { fork } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { exercises, findExercise } from "../../exercises/index.ts";
import { wallLimitMsDefault, virtualLimitMsDefault } from "../../exercises/runner.ts";
import type { CheckLine, RunReport } from "../../exercises/runner.ts";
import { resultsJson } from "../../exercises/results.ts";
import type { ResultsJson } from "../../exercises/results.ts";
import { verifyExercise } from "../../exercises/verify.ts";
import type { Exercise } from "../../exercises/types.ts";
import { quote } from "../../engine/core/index.ts";
import { seedMax, UsageError } from "../command.ts";
import type { Args, CommandSpec, Output } from "../command.ts";
import { invocation, userPath } from "../where.ts";

/** The report a child sends its parent: the run's verdict without the (large) record. */
export type ReportSummary = Omit<RunReport, "record">;

/** The longest limit a command line may set (an hour). */
const limitMsMax = 3_600_000;

/** Which options each subcommand takes (the command's options are the union). */
const optionsOf: Readonly<Record<string, readonly string[]>> = {
  list: [],
  show: ["steps"],
  check: ["solution", "json", "seed", "wall-limit-ms", "virtual-limit-ms"],
  "verify-all": ["seed"],
};

/** wrap fits text to 100 columns; continuation lines hang under the first word. */
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

function exerciseArg(args: Args): { exercise: Exercise; number: number } {
  const which = args.positionals[1];
  if (which === undefined)
    throw new UsageError("which exercise? give its number or id (see `list`)");
  if (args.positionals.length > 2)
    throw new UsageError(`unexpected argument ${quote(args.positionals[2]!)}`);
  const exercise = findExercise(which);
  if (!exercise)
    throw new UsageError(
      `no exercise ${quote(which)}; \`${invocation("exercise")} list\` shows them (1 to ${exercises.length})`,
    );
  return { exercise, number: exercises.indexOf(exercise) + 1 };
}

function list(out: Output): number {
  const lines = exercises.map(
    (exercise, i) =>
      `${String(i + 1).padStart(2)}. ${exercise.title}  [${exercise.id}, ${exercise.checks.length} checks]`,
  );
  out.stdout.write(
    `${lines.join("\n")}\n\n${invocation("exercise")} show N          the goal, the checks and the hints\n${invocation("exercise")} check N --solution FILE\n`,
  );
  return 0;
}

function show(args: Args, out: Output): number {
  const { exercise, number } = exerciseArg(args);
  const start = exercise.start;
  const lines = [
    `Exercise ${number}: ${exercise.title}`,
    `(${exercise.section}; id ${exercise.id})`,
    "",
    wrap(exercise.goal, "  "),
    "",
    `Starting state: ${start.servers} server(s), seed ${start.seed ?? 1}; the store you get talks to ${start.database ?? "Spade"}.`,
    "",
    "What is checked:",
    ...exercise.checks.map((check) => `  ☐ ${check.description}`),
    "",
    "Hints:",
    ...exercise.hints.map((hint, i) => wrap(`${i + 1}. ${hint}`, "  ", "     ")),
    "",
    ...(args.flag("steps")
      ? [
          "Solution steps:",
          ...exercise.solution.steps.map((step, i) => wrap(`${i + 1}. ${step}`, "  ", "     ")),
        ]
      : ["(--steps shows the reference solution's steps)"]),
    "",
    "Write a module exporting `export default async (cluster, store) => { … }` and run:",
    `  ${invocation("exercise")} check ${number} --solution my-solution.ts`,
  ];
  out.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

function printReport(report: ReportSummary, number: number, out: Output): void {
  const lines = [`Exercise ${number}: ${report.title} (seed ${report.seed})`];
  for (const line of report.checks)
    lines.push(`  ${line.ok ? "✓" : "✗"} ${line.description}\n      ${line.detail}`);
  const passed = report.checks.filter((line) => line.ok).length;
  if (report.status === "pass") lines.push(`PASS: all ${report.checks.length} checks hold`);
  else if (report.status === "fail")
    lines.push(
      `FAIL: ${passed} of ${report.checks.length} checks hold; the ✗ lines say what is missing`,
    );
  else
    lines.push(
      `ERROR: ${report.message ?? "the solution did not finish"}\n(${passed} of ${report.checks.length} checks held when it stopped)`,
    );
  out.stdout.write(`${lines.join("\n")}\n`);
}

/** notChecked is the checklist of a run that produced no report (the child was killed or crashed). */
export function notChecked(exercise: Exercise, seed: number, message: string): ReportSummary {
  const checks: CheckLine[] = exercise.checks.map((check) => ({
    id: check.id,
    description: check.description,
    ok: false,
    detail: "not checked: the solution did not finish",
  }));
  return { exercise: exercise.id, title: exercise.title, seed, status: "error", message, checks };
}

async function check(args: Args, out: Output): Promise<number> {
  const { exercise, number } = exerciseArg(args);
  const file = args.string("solution");
  if (file === undefined || file === "")
    throw new UsageError(
      "check needs --solution FILE (a module exporting default async (cluster, store) => { … })",
    );
  const solutionPath = userPath(file);
  if (!existsSync(solutionPath)) throw new UsageError(`no solution file at ${solutionPath}`);
  const seed = args.whole("seed", { min: 0, max: seedMax }) ?? exercise.start.seed ?? 1;
  const wallLimitMs =
    args.whole("wall-limit-ms", { min: 1, max: limitMsMax }) ??
    exercise.limits?.wallMs ??
    wallLimitMsDefault;
  const virtualLimitMs =
    args.whole("virtual-limit-ms", { min: 1, max: limitMsMax }) ??
    exercise.limits?.virtualMs ??
    virtualLimitMsDefault;
  const jsonPath = args.string("json");
  if (jsonPath === "") throw new UsageError("--json needs a file name");

  const report = await runInChild(
    exercise,
    solutionPath,
    { seed, wallLimitMs, virtualLimitMs },
    out,
  );
  printReport(report, number, out);
  if (jsonPath !== undefined) {
    const path = userPath(jsonPath);
    mkdirSync(dirname(path), { recursive: true });
    const json: ResultsJson = resultsJson(report);
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
    out.stdout.write(`results.json written to ${path}\n`);
  }
  return report.status === "pass" ? 0 : 1;
}

/** The child's entry, beside this folder: .ts from the sources, .js in the package. */
function childEntry(): string {
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return fileURLToPath(new URL(`../exercise-child${extension}`, import.meta.url));
}

function runInChild(
  exercise: Exercise,
  solutionPath: string,
  limits: { seed: number; wallLimitMs: number; virtualLimitMs: number },
  out: Output,
): Promise<ReportSummary> {
  return new Promise((resolveReport) => {
    const child = fork(
      childEntry(),
      [
        exercise.id,
        solutionPath,
        String(limits.seed),
        String(limits.virtualLimitMs),
        String(limits.wallLimitMs),
      ],
      { execArgv: process.execArgv, stdio: ["ignore", "inherit", "pipe", "ipc"] },
    );
    let report: ReportSummary | undefined;
    let stderr = "";
    let killedForTime = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      out.stderr.write(chunk.toString());
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

async function verifyAll(args: Args, out: Output): Promise<number> {
  if (args.positionals.length > 1)
    throw new UsageError(`unexpected argument ${quote(args.positionals[1]!)}`);
  const seed = args.whole("seed", { min: 0, max: seedMax });
  let broken = 0;
  for (const [i, exercise] of exercises.entries()) {
    const started = Date.now();
    const result = await verifyExercise(exercise, seed !== undefined ? { seed } : {});
    const failing = result.unsolved.checks.filter((line) => !line.ok).length;
    const passing = result.solved.checks.filter((line) => line.ok).length;
    const ms = Date.now() - started;
    if (result.problems.length === 0) {
      out.stdout.write(
        `✓ ${String(i + 1).padStart(2)}. ${exercise.id}: unsolved fails (${failing}/${exercise.checks.length} checks open), reference passes (${passing}/${exercise.checks.length}) [${ms} ms]\n`,
      );
    } else {
      broken++;
      out.stdout.write(
        `✗ ${String(i + 1).padStart(2)}. ${exercise.id}:\n${result.problems.map((p) => `      ${p}\n`).join("")}`,
      );
    }
  }
  out.stdout.write(
    broken === 0
      ? `all ${exercises.length} exercises verified\n`
      : `${broken} of ${exercises.length} exercises are broken\n`,
  );
  return broken === 0 ? 0 : 1;
}

export const exerciseCommand: CommandSpec = {
  name: "exercise",
  summary: "classroom exercises: list, show, check a solution, verify-all",
  usage: [
    "list",
    "show N [--steps]",
    "check N --solution FILE [--json OUT] [--seed S] [--wall-limit-ms MS] [--virtual-limit-ms MS]",
    "verify-all [--seed S]",
  ],
  description: [
    "N is the exercise's number in `list` or its id. A solution is a module (.ts, .mjs or .js)",
    "exporting",
    "  export default async (cluster, store) => { … }",
    'that imports what it needs from "rookery"; it may live anywhere. `check` runs it on the',
    "exercise's starting cluster in virtual time, prints the checklist, writes Exercism's",
    "results.json with --json, and exits 0 only when every check holds (1 otherwise), so GitHub",
    "Classroom's command grader can run it. `verify-all` shows that every exercise fails unsolved",
    "and passes with its reference solution.",
  ].join("\n"),
  options: {
    steps: { type: "boolean", help: "show: also print the reference solution's steps" },
    solution: { type: "string", value: "FILE", help: "check: the solution module" },
    json: { type: "string", value: "OUT", help: "check: write Exercism's results.json to OUT" },
    seed: { type: "string", value: "S", help: "check, verify-all: run on another seed" },
    "wall-limit-ms": {
      type: "string",
      value: "MS",
      help: "check: real time the solution may take (default per exercise)",
    },
    "virtual-limit-ms": {
      type: "string",
      value: "MS",
      help: "check: cluster time the solution may take (default per exercise)",
    },
  },
  positionalsMax: 2,
  examples: [
    { command: "rookery exercise list", what: "the ten exercises" },
    { command: "rookery exercise show 2", what: "the goal, the checklist and the hints" },
    {
      command: "rookery exercise check 2 --solution grow.ts --json results.json",
      what: "check a solution",
    },
    { command: "rookery exercise verify-all", what: "every exercise against its reference" },
  ],

  async run(args: Args, out: Output): Promise<number> {
    const sub = args.positionals[0];
    if (sub === undefined)
      throw new UsageError("which subcommand? list, show, check or verify-all");
    const allowed = optionsOf[sub];
    if (!allowed)
      throw new UsageError(`unknown subcommand ${quote(sub)}; use list, show, check or verify-all`);
    for (const name of Object.keys(exerciseCommand.options))
      if (args.has(name) && !allowed.includes(name))
        throw new UsageError(`--${name} does not go with ${sub}`);
    switch (sub) {
      case "list":
        if (args.positionals.length > 1)
          throw new UsageError(`unexpected argument ${quote(args.positionals[1]!)}`);
        return list(out);
      case "show":
        return show(args, out);
      case "check":
        return await check(args, out);
      default:
        return await verifyAll(args, out);
    }
  },
};
