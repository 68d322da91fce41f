/**
 * npm run walkthrough -- [--runtime sim|worker] [--storage fs|memory] [--data-dir DIR] [--json] [--seed S]
 *
 * The chapter's walkthrough, run headless: Spade on A, users/1 and users/2, B joins, kill A,
 * users/3 without a leader, restart A, five nodes, Pitchfork with replication factor 3. Each step
 * prints the cluster table, each database's group and the documents on each server — the
 * chapter's Studio screens as text. With --json each step is one JSON line:
 * { step, cluster, databases, documents } as returned by cluster.describe().
 *
 * --runtime worker runs the same story in real time, one Web Worker per server; with
 * --storage fs --data-dir DIR each server keeps its data in DIR/1, DIR/2 … like the chapter's
 * Data/1. Run it again over the same folders and it restarts those servers instead, and shows
 * every acknowledged document recovered.
 */
import { Cluster } from "../engine/index.ts";
import type { ClusterHandle, ServerRequest, ServerResponse } from "../engine/index.ts";
import { renderCluster, renderDatabases, renderDocuments } from "../engine/runtime/cli/render.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const runtimeFlag = argv.indexOf("--runtime");
const runtime = runtimeFlag >= 0 ? argv[runtimeFlag + 1] : "sim";
const seedFlag = argv.indexOf("--seed");
const seed = seedFlag >= 0 ? Number(argv[seedFlag + 1]) : 1;
const storageFlag = argv.indexOf("--storage");
const storage = storageFlag >= 0 ? argv[storageFlag + 1] : undefined;
const dataDirFlag = argv.indexOf("--data-dir");
const dataDir = dataDirFlag >= 0 ? argv[dataDirFlag + 1] : undefined;
for (const arg of argv) {
  if (
    arg.startsWith("--") &&
    !["--json", "--runtime", "--seed", "--storage", "--data-dir"].includes(arg)
  ) {
    console.error(
      `unknown option ${arg}; usage: npm run walkthrough -- [--runtime sim|worker] [--storage fs|memory] [--data-dir DIR] [--json] [--seed S]`,
    );
    process.exit(2);
  }
}
if (runtime !== "sim" && runtime !== "worker") {
  console.error(
    `--runtime ${runtime ?? ""}: use sim (one thread, virtual time) or worker (one Web Worker per server)`,
  );
  process.exit(2);
}
if (!Number.isInteger(seed)) {
  console.error("--seed needs a whole number");
  process.exit(2);
}
if (runtime === "sim" && (storage !== undefined || dataDir !== undefined)) {
  console.error(
    "--storage and --data-dir are for --runtime worker; the sim runtime keeps its data in memory",
  );
  process.exit(2);
}
if (storage !== undefined && storage !== "fs" && storage !== "memory") {
  console.error(`--storage ${storage}: use fs or memory`);
  process.exit(2);
}
if (dataDirFlag >= 0 && (!dataDir || dataDir.startsWith("--") || storage === "memory")) {
  console.error("--data-dir needs a folder, and goes with --storage fs");
  process.exit(2);
}

/** recovered counts the server folders (DIR/1, DIR/2 …) an earlier run left behind. */
function serverFolders(dir: string | undefined): number {
  let count = 0;
  while (dir && existsSync(join(dir, String(count + 1)))) count++;
  return count;
}
const earlier = runtime === "worker" ? serverFolders(dataDir) : 0;

const cluster: ClusterHandle =
  runtime === "sim"
    ? await Cluster.start({ runtime: "sim", servers: 2, seed })
    : await Cluster.start({
        runtime: "worker",
        servers: Math.max(2, earlier),
        seed,
        ...(storage === "fs" || storage === "memory" ? { storage } : {}),
        ...(dataDir ? { dataDir } : {}),
      });
const url = (n: number): string => `http://127.0.0.${n}:8080`;
let stepNo = 0;

async function ask(on: string, request: ServerRequest): Promise<ServerResponse> {
  return cluster.network.request(on, request);
}

/** untilKnown asks a server that just joined for a database's status until it has caught up. */
async function untilKnown(on: string, database: string): Promise<ServerResponse> {
  for (let attempt = 0; ; attempt++) {
    const response = await ask(on, { type: "database-status", database });
    if (response.ok || response.error.code !== "DatabaseDoesNotExist" || attempt === 50)
      return response;
    await cluster.runFor(20);
  }
}

function outcome(response: ServerResponse): string {
  return response.ok ? "ok" : `${response.error.code}: ${response.error.message}`;
}

function step(title: string, detail?: string): void {
  stepNo++;
  const description = cluster.describe();
  if (json) {
    console.log(
      JSON.stringify({
        step: stepNo,
        title,
        ...(detail ? { detail } : {}),
        cluster: description.cluster,
        databases: description.databases,
        documents: description.documents,
      }),
    );
    return;
  }
  console.log(`\n== ${stepNo}. ${title}`);
  if (detail) console.log(detail);
  console.log(
    `\n${renderCluster(description)}\n\n${renderDatabases(description)}\n\n${renderDocuments(description)}`,
  );
}

if (earlier > 0) {
  // A second run over the same folders: the servers recover instead of starting fresh.
  await cluster.waitFor(
    (c) => c.servers.every((s) => s.tag !== "?") && c.servers.some((s) => s.role === "leader"),
    { timeoutMs: 30_000, what: "the recovered servers to elect a leader" },
  );
  await cluster.runFor(500);
  step(
    `Restart ${earlier} servers from ${dataDir}: each recovers its tag, the cluster, its databases and every acknowledged document`,
  );
  await cluster.stop();
  process.exit(0);
}

step("Two fresh servers: neither belongs to a cluster, so both show ?");
const created = await ask(url(1), { type: "create-database", name: "Spade" });
step(
  "Create Spade on 127.0.0.1: the first cluster-wide operation makes it a one-node cluster, node A",
  outcome(created),
);
await ask(url(1), {
  type: "batch",
  database: "Spade",
  transaction: {
    puts: [
      { id: "users/1", body: { name: "Oren" } },
      { id: "users/2", body: { name: "Eini" } },
    ],
  },
});
step("users/1 and users/2 written to Spade on A");
const added = await ask(url(1), { type: "add-node", url: url(2) });
await cluster.waitFor((c) => c.servers[1]!.tag === "B" && c.servers[1]!.leader !== null, {
  what: "B to join",
});
const offline = await untilKnown(url(2), "Spade");
step(
  "Add node http://127.0.0.2:8080: it becomes B; Spade is offline there",
  `${outcome(added)}; Spade on B: ${offline.ok ? (offline.result as { status: string }).status : outcome(offline)}`,
);
await ask(url(1), { type: "add-database-node", database: "Spade", tag: "B" });
await cluster.waitFor(
  (c) =>
    (c.describe().documents["B"]?.["Spade"]?.length ?? 0) === 2 &&
    c.describe().databases[0]!.members.length === 2,
  { what: "users on B" },
);
step("Manage group → Add node to group: B receives users/1 and users/2 and becomes a member");
await cluster.kill("A");
await cluster.runFor(2000);
step("Kill A: B cannot reach a majority, so there is no leader");
const refused = await ask(url(2), { type: "create-database", name: "Pitchfork" });
await ask(url(2), {
  type: "batch",
  database: "Spade",
  transaction: { puts: [{ id: "users/3", body: { name: "Written on B without a leader" } }] },
});
step(
  "Without a leader, creating a database fails; writing users/3 to Spade on B works",
  `create Pitchfork: ${outcome(refused)}`,
);
await cluster.restart("A");
await cluster.waitFor(
  (c) =>
    c.servers.some((s) => s.role === "leader") &&
    (c.describe().documents["A"]?.["Spade"] ?? []).includes("users/3"),
  { what: "a leader and users/3 on A" },
);
step("Restart A: the cluster elects a leader again and users/3 reaches A");
for (const n of [3, 4, 5]) {
  await cluster.addServer();
  await ask(url(1), { type: "add-node", url: url(n) });
}
await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
  what: "five nodes",
});
const onD = await untilKnown(url(4), "Spade");
step(
  "Add C, D and E: every server sees the whole topology; Spade is offline on D",
  `Spade on D: ${onD.ok ? (onD.result as { status: string }).status : outcome(onD)}`,
);
const pitchfork = await ask(url(4), {
  type: "create-database",
  name: "Pitchfork",
  replicationFactor: 3,
});
const placed = pitchfork.ok ? (pitchfork.result as { nodes: string[] }).nodes : [];
await ask(cluster.servers.find((s) => s.tag === placed[0])?.url ?? url(3), {
  type: "batch",
  database: "Pitchfork",
  transaction: { puts: [{ id: "tines/1", body: { tines: 3 } }] },
});
await cluster.waitFor(
  (c) =>
    placed.every((tag) => (c.describe().documents[tag]?.["Pitchfork"] ?? []).includes("tines/1")),
  { what: "tines/1 on every Pitchfork node" },
);
step(
  "Create Pitchfork with replication factor 3: the cluster places it on three servers",
  `${outcome(pitchfork)}; placed on ${placed.join(", ")}`,
);
await cluster.stop();
