/**
 * rookery bench: the benchmarks (test/bench), which report ratios against floors and peers
 * measured in the same run. They exist only in a clone of the repository: they measure against
 * PouchDB, etcd and Chromium, which the package does not depend on.
 */
import { writeFileSync } from "node:fs";
import { RookeryError } from "../../engine/core/index.ts";
import { orList, UsageError } from "../command.ts";
import type { Args, CommandSpec, Output } from "../command.ts";
import { formatDuration, Progress } from "../progress.ts";
import { fromSource, userPath } from "../where.ts";

/** The suites, in the order they run when none is named (test/bench/suites.ts has them). */
const suiteNames = [
  "raft",
  "replication",
  "storage",
  "client",
  "workers",
  "browser",
  "http",
  "crash",
] as const;

/** The shape of test/bench/suites.ts (declared here so the package build does not follow it). */
interface BenchModule {
  readonly suites: Readonly<
    Record<string, () => Record<string, unknown> | Promise<Record<string, unknown>>>
  >;
}

/** benchSuites loads the suites; `inClone` is false where the CLI runs from the package. */
export async function benchSuites(inClone = fromSource): Promise<BenchModule["suites"]> {
  if (!inClone)
    throw new RookeryError(
      "BenchNeedsRepository",
      "the benchmarks measure Rookery against PouchDB, etcd and Chromium, which the package does not install; " +
        "clone the repository, run npm ci there, then npm run bench",
    );
  const module = "../../test/bench/suites.ts";
  return ((await import(/* @vite-ignore */ module)) as BenchModule).suites;
}

export const benchCommand: CommandSpec = {
  name: "bench",
  summary: "benchmarks as ratios against floors and peers measured in the same run (a clone only)",
  usage: ["[suite …] [--json FILE]"],
  description: [
    `Suites: ${suiteNames.join(", ")} (all when none is named).`,
    "browser needs /usr/bin/chromium; http measures server processes beside a 3-member etcd",
    "cluster (skipped without etcd); crash SIGKILLs server processes 30 times while RavenDB's",
    "client writes (ROOKERY_CRASH_KILLS for more).",
    "Each reports its numbers next to a floor or a peer measured in the same run: a message",
    "round trip, a raw storage write, a server with no database, PouchDB, etcd. The results print",
    "as one JSON object on stdout (and go to FILE with --json); progress goes to stderr, a line",
    "every few seconds when stderr is not a terminal. They need a clone of the repository.",
  ].join("\n"),
  options: {
    json: { type: "string", value: "FILE", help: "also write the results to FILE" },
  },
  positionalsMax: suiteNames.length,
  examples: [
    { command: "rookery bench raft replication", what: "two suites, JSON on stdout" },
    { command: "rookery bench --json bench.json", what: "every suite, results also in bench.json" },
    { command: "npm run bench -- workers", what: "the same from the repository's npm script" },
  ],

  async run(args: Args, out: Output): Promise<number> {
    const names = args.positionals.length > 0 ? [...args.positionals] : [...suiteNames];
    for (const name of names)
      if (!(suiteNames as readonly string[]).includes(name))
        throw new UsageError(
          `no bench suite ${JSON.stringify(name)}; the suites are ${orList([...suiteNames])}`,
        );
    const jsonFile = args.string("json");
    if (jsonFile === "") throw new UsageError("--json needs a file name");
    const suites = await benchSuites();
    const results: Record<string, unknown> = {
      node: process.version,
      date: new Date().toISOString(),
    };
    const progress = new Progress({
      label: "bench",
      total: names.length,
      unit: "suites",
      stream: out.stderr,
    });
    try {
      for (const [k, name] of names.entries()) {
        progress.update(k, 0, `${name} (${k + 1}/${names.length})`);
        const started = performance.now();
        results[name] = await suites[name]!();
        progress.note(
          `bench ${name}: done in ${formatDuration((performance.now() - started) / 1000)}`,
        );
      }
      progress.update(names.length, 0);
    } finally {
      progress.finish();
    }
    const text = JSON.stringify(results, null, 2);
    out.stdout.write(`${text}\n`);
    if (jsonFile !== undefined) {
      const path = userPath(jsonFile);
      writeFileSync(path, `${text}\n`);
      out.stderr.write(`results written to ${path}\n`);
    }
    return 0;
  },
};
