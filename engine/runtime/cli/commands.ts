/**
 * The CLI's command interpreter: one line of text in, one text answer out, against any
 * ClusterHandle (sim or worker). The commands mirror the Studio's actions in the chapter — add a
 * server, add a node by URL, kill and restart, partition and heal, create a database, add a node
 * to its group, put/get/delete/list documents on a chosen server, the cluster and topology
 * screens, who leads, wait for replication. No terminal here: cli/commands/cluster.ts wires it to
 * readline, and tests call it directly.
 */
import { isRookeryError, quote } from "../../core/index.ts";
import type { ClusterHandle } from "../handle.ts";
import { CommandRunner } from "./runner.ts";
import { commandSpecs, done, failed, tokens, UsageError } from "./syntax.ts";
import type { CommandResult } from "./syntax.ts";

export { commandSpecs } from "./syntax.ts";
export type { CommandResult } from "./syntax.ts";

/** InterpreterOptions: where asynchronous output (trace lines) goes. */
export interface InterpreterOptions {
  readonly print?: (text: string) => void;
  /** How long wait-replication waits by default (ms of the cluster's clock). */
  readonly waitTimeoutMs?: number;
  /** How long one request waits for its answer (ms of the cluster's clock). */
  readonly requestTimeoutMs?: number;
}

/** Interpreter runs CLI lines against one cluster. */
export interface Interpreter {
  execute(line: string): Promise<CommandResult>;
  /** The command names, for completion. */
  readonly names: readonly string[];
  /** dispose stops the trace subscription, if any. */
  dispose(): void;
}

/** distance is the edit distance between two short words (for "did you mean"). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current.push(
        Math.min(
          previous[j]! + 1,
          current[j - 1]! + 1,
          previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        ),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** unknown answers a line whose first word is no command, suggesting the nearest ones. */
function unknown(name: string): CommandResult {
  const near = Object.keys(commandSpecs).filter(
    (known) => distance(known, name) <= 2 || known.startsWith(name),
  );
  return failed(
    `unknown command ${quote(name)}.${near.length > 0 ? ` Did you mean ${near.join(" or ")}?` : ""} Type help for the list.`,
  );
}

/** createInterpreter returns an interpreter for `cluster`; see commandSpecs for the commands. */
export function createInterpreter(
  cluster: ClusterHandle,
  options: InterpreterOptions = {},
): Interpreter {
  const runner = new CommandRunner(cluster, {
    print: options.print ?? (() => {}),
    waitTimeoutMs: options.waitTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
  });
  return {
    names: [...Object.keys(commandSpecs), "exit"],
    async execute(line: string): Promise<CommandResult> {
      const args = tokens(line);
      const name = args.shift();
      if (name === undefined || name.startsWith("#")) return done("");
      try {
        return (await runner.run(name, args, line)) ?? unknown(name);
      } catch (error) {
        if (error instanceof UsageError) return failed(error.message);
        if (isRookeryError(error)) return failed(`${name}: ${error.message}`);
        throw error;
      }
    },
    dispose(): void {
      runner.dispose();
    },
  };
}
