/**
 * rookery <command> [options]: the one command line of Rookery. cli/bin.ts runs it (the package's
 * `bin`, and behind `npm run cluster|walkthrough|exercise|sim|bench` in this repository); tests
 * call main() directly. See cli/commands/ for the commands and cli/command.ts for how each is
 * described and parsed.
 */
import { isRookeryError } from "../engine/core/index.ts";
import { helpText, orList, parse, usageText, UsageError } from "./command.ts";
import type { CommandSpec, Output } from "./command.ts";
import { commands } from "./commands/index.ts";
import { fromSource, version } from "./where.ts";

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `rookery ${version()}: a RavenDB-style cluster you can run, break and watch`,
    "",
    "usage: rookery <command> [options]",
    "       rookery <command> --help    what a command does, its options and examples",
    "       rookery --version",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    fromSource
      ? "In this repository each command is also an npm script: npm run sim -- --seeds 20"
      : 'Rookery\'s library: import { Cluster, DocumentStore } from "rookery"',
    "",
  ].join("\n");
}

/** editDistance is the number of single-letter edits between two short words. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next.push(
        Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)),
      );
    row = next;
  }
  return row[b.length]!;
}

function unknownCommand(name: string, out: Output): number {
  const near = commands.filter((c) => editDistance(c.name, name) <= 2 || c.name.startsWith(name));
  out.stderr.write(
    `rookery: unknown command ${JSON.stringify(name)}${near.length > 0 ? `; did you mean ${orList(near.map((c) => c.name))}?` : ""}\n\n${overview()}`,
  );
  return 2;
}

/**
 * errorText is an error as the user sees it: its code or name and its message, which says what to
 * do. The stack trace only with --verbose; an error that is not one of ours says how to get it.
 */
function errorText(command: CommandSpec, error: unknown, verbose: boolean): string {
  const prefix = `rookery ${command.name}`;
  const stack = verbose && error instanceof Error && error.stack ? `${error.stack}\n` : "";
  if (isRookeryError(error)) return `${prefix}: ${error.code}: ${error.message}\n${stack}`;
  const name =
    error instanceof Error
      ? (((error as { code?: unknown }).code as string | undefined) ?? error.name)
      : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return (
    `${prefix}: ${name}: ${message}\n` +
    (stack || "(this was not expected; run again with --verbose to see where it happened)\n")
  );
}

/** main runs one command line and returns its exit code: 0 done, 1 failed, 2 a usage error. */
export async function main(
  argv: readonly string[],
  out: Output = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    out.stderr.write(overview());
    return 2;
  }
  if (first === "--help" || first === "-h") {
    out.stdout.write(overview());
    return 0;
  }
  if (first === "--version" || first === "-v") {
    out.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === "help") {
    const about = rest[0] === undefined ? undefined : commands.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && !about) return unknownCommand(rest[0], out);
    out.stdout.write(about ? helpText(about) : overview());
    return 0;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) return unknownCommand(first, out);
  const verbose = rest.includes("--verbose");
  try {
    const args = parse(command, rest);
    if (args.flag("help")) {
      out.stdout.write(helpText(command));
      return 0;
    }
    return await command.run(args, out);
  } catch (error) {
    if (error instanceof UsageError) {
      out.stderr.write(`rookery ${command.name}: ${error.message}\n${usageText(command)}\n`);
      return 2;
    }
    out.stderr.write(errorText(command, error, verbose));
    return 1;
  }
}
