/**
 * rookery cluster: an interactive prompt over a running cluster, its commands mirroring the
 * Studio's actions in the chapter (type help; engine/runtime/cli/commands.ts interprets them).
 * Lines can also be piped in; the exit code is then 1 when any of them failed. SIGINT, SIGTERM
 * and the end of the parent process stop the servers before the CLI exits.
 */
import { createInterface } from "node:readline";
import { Cluster } from "../../engine/index.ts";
import type { ClusterHandle } from "../../engine/index.ts";
import { createInterpreter } from "../../engine/runtime/cli/commands.ts";
import { clusterChoice, clusterOptions, wipedNote } from "../cluster-choice.ts";
import type { Args, CommandSpec, Output } from "../command.ts";
import { onStop } from "../signals.ts";

/** banner says what started: fresh servers, or the servers recovered from a data folder. */
function banner(cluster: ClusterHandle, recovered: number, where: string): string {
  const count = cluster.servers.length;
  const plural = count === 1 ? "" : "s";
  if (recovered === 0)
    return `${count} fresh server${plural} (${where}): ${cluster.urls.join(", ")}`;
  const tags = cluster.servers.map((s) => `${s.tag} ${s.url}`).join(", ");
  const databases = cluster.describe().databases.map((db) => db.name);
  return (
    `${count} server${plural} (${where}), ${recovered} recovered from an earlier run: ${tags}` +
    (databases.length > 0 ? `; databases ${databases.join(", ")}` : "") +
    `\n(--fresh wipes the data folder's servers and starts fresh ones)`
  );
}

export const clusterCommand: CommandSpec = {
  name: "cluster",
  summary: "an interactive prompt over a running cluster: add-node, kill, partition, put …",
  usage: [
    "[--servers N] [--runtime worker|sim] [--storage fs|memory] [--data-dir DIR [--fresh]] [--seed S]",
  ],
  description: [
    "Starts a cluster and reads commands that mirror the Studio's actions in the chapter: add a",
    "node by URL, kill and restart servers, cut the network, create databases, put and get",
    "documents on a chosen server, show the cluster and a database's topology (type help).",
    "",
    "The worker runtime (the default) runs one Web Worker per server in real time with fs",
    "storage in DIR/1, DIR/2 … (a temporary folder, removed at the end, without --data-dir).",
    "Over a --data-dir an earlier run filled, the servers it left recover; --fresh wipes them",
    "first. The sim runtime runs every server in one thread on virtual time.",
    "",
    "Lines can be piped in (one command each); the exit code is then 1 if any failed.",
    "Ctrl-C, SIGTERM, or the end of the parent process stops the servers before exiting.",
  ].join("\n"),
  options: {
    servers: { type: "string", value: "N", help: "fresh servers to start, 1 to 26 (default 2)" },
    runtime: {
      type: "string",
      value: "worker|sim",
      help: "worker: a Web Worker per server (default); sim: one thread, virtual time",
    },
    storage: {
      type: "string",
      value: "fs|memory",
      help: "worker only: fs, one folder per server (default), or memory",
    },
    "data-dir": {
      type: "string",
      value: "DIR",
      help: "worker + fs: keep the servers' folders here",
    },
    fresh: { type: "boolean", help: "with --data-dir: wipe an earlier run's servers first" },
    seed: { type: "string", value: "S", help: "the seed of the servers' randomness (default 1)" },
  },
  examples: [
    {
      command: "rookery cluster --servers 3",
      what: "three fresh servers in workers, then a prompt",
    },
    { command: "rookery cluster --data-dir ./data", what: "servers kept in ./data/1, ./data/2 …" },
    { command: "rookery cluster --runtime sim", what: "in virtual time, in one thread" },
    {
      command: `printf 'create-database Spade\\nleader\\n' | rookery cluster --runtime sim`,
      what: "commands from a pipe",
    },
  ],

  async run(args: Args, out: Output): Promise<number> {
    const servers = args.whole("servers", { min: 1, max: 26 }) ?? 2;
    const choice = await clusterChoice(args, "worker");
    const { runtime, storage, dataDir } = choice;
    const recovered = choice.fresh ? 0 : choice.found.length;
    const cluster = await Cluster.start(clusterOptions(choice, servers));
    const where =
      runtime === "sim"
        ? "sim"
        : `worker, ${storage ?? "fs"} storage${dataDir !== undefined ? ` in ${dataDir}` : ""}`;

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
        if (interactive) {
          out.stdout.write(`\r\x1b[K${text}\n`);
          rl.prompt(true);
        } else out.stdout.write(`${text}\n`);
      },
    });

    out.stderr.write(wipedNote(choice));
    out.stdout.write(
      `${banner(cluster, recovered, where)}\ntype help for the commands, quit to leave\n`,
    );

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        interpreter.dispose();
        rl.close();
        await cluster.stop();
      })());
    const stopHandlers = onStop(async (reason) => {
      out.stderr.write(`\n${reason}: stopping the servers\n`);
      await close();
    });

    // One line at a time, in order, even when lines are piped in faster than commands finish.
    let queue: Promise<void> = Promise.resolve();
    let failures = 0;
    const ended = new Promise<void>((resolveEnded) => {
      rl.on("line", (line) => {
        queue = queue.then(async () => {
          if (closing) return;
          if (!interactive && line.trim() !== "") out.stdout.write(`rookery> ${line}\n`);
          try {
            const result = await interpreter.execute(line);
            if (result.text) out.stdout.write(`${result.text}\n`);
            if (!result.ok) failures++;
            if (result.quit) return await close();
          } catch (error) {
            failures++;
            out.stderr.write(
              `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
            );
          }
          if (interactive) rl.prompt();
        });
      });
      // End of piped input (or Ctrl-D, or quit): finish what is queued, then stop the cluster.
      rl.on("close", () => {
        queue = queue.then(close).then(resolveEnded);
      });
      // Ctrl-C at the prompt arrives here (readline takes it from the terminal), not as a signal.
      rl.on("SIGINT", () => void queue.then(close));
    });
    if (interactive) rl.prompt();
    await ended;
    stopHandlers();
    return !interactive && failures > 0 ? 1 : 0;
  },
};
