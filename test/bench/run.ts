/**
 * npm run bench -- [suite …] [--json FILE]
 * Suites: raft, replication, storage, client, workers, browser (needs /usr/bin/chromium). Results print as JSON and, with --json, are written to FILE for scripts to read.
 */
import { writeFileSync } from "node:fs";
import { benchBrowser } from "./browser.ts";
import { benchClient } from "./client.ts";
import { benchRaft } from "./raft.ts";
import { benchReplication } from "./replication.ts";
import { benchStorageAsync } from "./storage.ts";
import { benchWorkers } from "./workers.ts";

const suites: Record<string, () => Record<string, unknown> | Promise<Record<string, unknown>>> = {
  raft: benchRaft,
  replication: benchReplication,
  storage: benchStorageAsync,
  client: benchClient,
  workers: benchWorkers,
  browser: benchBrowser,
};

const argv = process.argv.slice(2);
let jsonFile: string | undefined;
const chosen: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--json") {
    jsonFile = argv[++i];
    if (!jsonFile) {
      console.error("--json needs a file name");
      process.exit(2);
    }
  } else chosen.push(argv[i]!);
}
const names = chosen.length > 0 ? chosen : Object.keys(suites);
for (const name of names) {
  if (!suites[name]) {
    console.error(`unknown bench suite "${name}"; available: ${Object.keys(suites).join(", ")}`);
    process.exit(2);
  }
}
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };
for (const name of names) {
  const started = performance.now();
  results[name] = await suites[name]!();
  console.error(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const text = JSON.stringify(results, null, 2);
console.log(text);
if (jsonFile) writeFileSync(jsonFile, text + "\n");
