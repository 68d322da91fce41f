/**
 * What one `rookery <command>` is: its name, its usage and examples for --help, its options (parsed
 * strictly with node:util parseArgs) and what it runs. Each command lives in its own module under
 * cli/commands/ and is listed once in cli/commands/index.ts; adding a command is adding a file.
 */
import { parseArgs } from "node:util";
import { quote as quoted } from "../engine/core/index.ts";

/** OptionSpec describes one --option: a flag (boolean) or one that takes a value. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** The value's name in the usage, like "N" or "DIR" (string options). */
  readonly value?: string;
  readonly short?: string;
  /** One line for --help. */
  readonly help: string;
}

/** Example is one command line with what it does, shown by --help. */
export interface Example {
  readonly command: string;
  readonly what: string;
}

/** Output is where a command writes: stdout for results, stderr for progress and errors. */
export interface Output {
  readonly stdout: Stream;
  readonly stderr: Stream;
}

/** Stream is the part of a Node write stream the CLI uses (a test can pass its own). */
export interface Stream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** CommandSpec is one `rookery <name>` command. */
export interface CommandSpec {
  readonly name: string;
  /** One line for `rookery --help`. */
  readonly summary: string;
  /** Usage lines, each after `rookery <name> `. */
  readonly usage: readonly string[];
  /** A paragraph or two for `rookery <name> --help`, in plain words. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many words may follow the command besides options (0 when omitted). */
  readonly positionalsMax?: number;
  readonly examples: readonly Example[];
  run(args: Args, out: Output): Promise<number>;
}

/** UsageError is a command line the command cannot run: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The options every command takes. */
export const commonOptions: Readonly<Record<string, OptionSpec>> = {
  help: { type: "boolean", short: "h", help: "show this help and exit" },
  verbose: { type: "boolean", help: "print the stack trace of an unexpected error" },
};

/** The largest seed: seeds are 32-bit (a larger one would wrap and replay another seed). */
export const seedMax = 2 ** 32 - 1;

/** Args is a parsed command line with typed, checked accessors. */
export class Args {
  constructor(
    private readonly values: Readonly<Record<string, string | boolean | undefined>>,
    readonly positionals: readonly string[],
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === "string" ? value : undefined;
  }

  /**
   * whole reads a whole number written in digits (no signs, exponents or fractions, so `1e20`
   * and `-1` are refused rather than read as something else) between min and max.
   */
  whole(name: string, bounds: { readonly min: number; readonly max: number }): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    return wholeNumber(`--${name}`, raw, bounds);
  }

  /** choice reads a value that must be one of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!(choices as readonly string[]).includes(raw))
      throw new UsageError(`--${name} takes ${orList(choices)}, got ${quoted(raw)}`);
    return raw as T;
  }
}

/** wholeNumber parses `raw` as digits between min and max, or throws a UsageError naming `what`. */
export function wholeNumber(
  what: string,
  raw: string,
  bounds: { readonly min: number; readonly max: number },
): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max)
    throw new UsageError(
      `${what} needs a whole number from ${bounds.min} to ${bounds.max}, got ${quoted(raw)}`,
    );
  return value;
}

/** orList writes ["a", "b", "c"] as `a, b or c`. */
export function orList(items: readonly string[]): string {
  return items.length <= 1
    ? (items[0] ?? "")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** parse reads argv for `command` strictly: unknown options and extra words are UsageErrors. */
export function parse(command: CommandSpec, argv: readonly string[]): Args {
  const options = { ...command.options, ...commonOptions };
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(options))
    config[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (error) {
    throw new UsageError(parseProblem(error, argv));
  }
  const max = command.positionalsMax ?? 0;
  if (parsed.positionals.length > max && !parsed.values["help"]) {
    const extra = parsed.positionals.slice(max);
    throw new UsageError(
      `unexpected ${extra.length === 1 ? "argument" : "arguments"} ${extra.map(quoted).join(" ")}` +
        (max === 0 ? ` (rookery ${command.name} takes only options)` : ""),
    );
  }
  return new Args(parsed.values, parsed.positionals);
}

/** parseProblem says in our words what parseArgs refused. */
function parseProblem(error: unknown, argv: readonly string[]): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option)
    return `unknown option ${option}${option.startsWith("--") ? "" : ` (options are spelled --name)`}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    if (/does not take an argument/.test(message)) return `${option} takes no value`;
    return `${option} needs a value`;
  }
  return `${message} (in: rookery ${argv.join(" ")})`;
}

/** usageText is the short usage printed after a usage error. */
export function usageText(command: CommandSpec): string {
  return [
    `usage: ${command.usage.map((line) => `rookery ${command.name} ${line}`.trimEnd()).join("\n       ")}`,
    `       rookery ${command.name} --help   (options and examples)`,
  ].join("\n");
}

/** helpText is `rookery <name> --help`: usage, description, options, examples. */
export function helpText(command: CommandSpec): string {
  const options = { ...command.options, ...commonOptions };
  const left = (name: string, spec: OptionSpec): string =>
    `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`;
  const width = Math.max(...Object.entries(options).map(([name, spec]) => left(name, spec).length));
  const examplesWidth = Math.max(...command.examples.map((e) => e.command.length));
  return [
    `rookery ${command.name}: ${command.summary}`,
    "",
    `usage: ${command.usage.map((line) => `rookery ${command.name} ${line}`.trimEnd()).join("\n       ")}`,
    "",
    command.description,
    "",
    "options:",
    ...Object.entries(options).map(
      ([name, spec]) => `  ${left(name, spec).padEnd(width)}  ${spec.help}`,
    ),
    "",
    "examples:",
    ...command.examples.map((e) => `  ${e.command.padEnd(examplesWidth)}  # ${e.what}`),
    "",
  ].join("\n");
}
