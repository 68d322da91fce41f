/**
 * The benchmark suites, by name: raft, replication, storage, client, workers, browser (needs
 * /usr/bin/chromium), http (server processes and RavenDB's client beside etcd, when installed), crash (30 SIGKILLs under
 * RavenDB's client, no acknowledged write lost). `rookery bench` (cli/commands/bench.ts, behind `npm run bench`) runs them,
 * shows progress and prints the results as JSON.
 */
import { benchBrowser } from "./browser.ts";
import { benchClient } from "./client.ts";
import { benchCrash } from "./crash.ts";
import { benchHttp } from "./http.ts";
import { benchRaft } from "./raft.ts";
import { benchReplication } from "./replication.ts";
import { benchStorageAsync } from "./storage.ts";
import { benchWorkers } from "./workers.ts";

export const suites: Record<
  string,
  () => Record<string, unknown> | Promise<Record<string, unknown>>
> = {
  raft: benchRaft,
  replication: benchReplication,
  storage: benchStorageAsync,
  client: benchClient,
  workers: benchWorkers,
  browser: benchBrowser,
  http: benchHttp,
  crash: benchCrash,
};
