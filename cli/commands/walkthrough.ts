/**
 * rookery walkthrough: the chapter's walkthrough, run headless. Spade on A, users/1 and users/2,
 * B joins, kill A, users/3 without a leader, restart A, five nodes, Pitchfork with replication
 * factor 3. Each step prints the cluster table, each database's group and the documents on each
 * server (the chapter's Studio screens as text), or with --json one JSON line per step:
 * { step, title, detail?, cluster, databases, documents } as cluster.describe() returns them.
 *
 * Over a --data-dir an earlier run filled, it recovers those servers instead, shows what they
 * kept, and offers --fresh to wipe the folders and tell the story from the start.
 */
import { Cluster } from "../../engine/index.ts";
import type { ClusterHandle, ServerRequest, ServerResponse } from "../../engine/index.ts";
import {
  renderCluster,
  renderDatabases,
  renderDocuments,
} from "../../engine/runtime/cli/render.ts";
import { clusterChoice, clusterOptions, wipedNote } from "../cluster-choice.ts";
import type { Args, CommandSpec, Output } from "../command.ts";
import { invocation } from "../where.ts";

const url = (n: number): string => `http://127.0.0.${n}:8080`;

/** Story prints the steps and asks the servers; one per run. */
class Story {
  private stepNo = 0;
  constructor(
    readonly cluster: ClusterHandle,
    private readonly json: boolean,
    private readonly out: Output,
  ) {}

  ask(on: string, request: ServerRequest): Promise<ServerResponse> {
    return this.cluster.network.request(on, request);
  }

  /** untilKnown asks a server that just joined for a database's status until it has caught up. */
  async untilKnown(on: string, database: string): Promise<ServerResponse> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.ask(on, { type: "database-status", database });
      if (response.ok || response.error.code !== "DatabaseDoesNotExist" || attempt === 50)
        return response;
      await this.cluster.runFor(20);
    }
  }

  step(title: string, detail?: string): void {
    this.stepNo++;
    const description = this.cluster.describe();
    if (this.json) {
      this.out.stdout.write(
        `${JSON.stringify({
          step: this.stepNo,
          title,
          ...(detail ? { detail } : {}),
          cluster: description.cluster,
          databases: description.databases,
          documents: description.documents,
        })}\n`,
      );
      return;
    }
    this.out.stdout.write(
      `\n== ${this.stepNo}. ${title}\n${detail ? `${detail}\n` : ""}\n${renderCluster(description)}\n\n${renderDatabases(description)}\n\n${renderDocuments(description)}\n`,
    );
  }
}

function outcome(response: ServerResponse): string {
  return response.ok ? "ok" : `${response.error.code}: ${response.error.message}`;
}

/** tellFromTheStart is the chapter's story on two fresh servers. */
async function tellFromTheStart(story: Story): Promise<void> {
  const { cluster } = story;
  story.step("Two fresh servers: neither belongs to a cluster, so both show ?");
  const created = await story.ask(url(1), { type: "create-database", name: "Spade" });
  story.step(
    "Create Spade on 127.0.0.1: the first cluster-wide operation makes it a one-node cluster, node A",
    outcome(created),
  );
  await story.ask(url(1), {
    type: "batch",
    database: "Spade",
    transaction: {
      puts: [
        { id: "users/1", body: { name: "Oren" } },
        { id: "users/2", body: { name: "Eini" } },
      ],
    },
  });
  story.step("users/1 and users/2 written to Spade on A");
  const added = await story.ask(url(1), { type: "add-node", url: url(2) });
  await cluster.waitFor((c) => c.servers[1]!.tag === "B" && c.servers[1]!.leader !== null, {
    what: "B to join",
  });
  const offline = await story.untilKnown(url(2), "Spade");
  story.step(
    "Add node http://127.0.0.2:8080: it becomes B; Spade is offline there",
    `${outcome(added)}; Spade on B: ${offline.ok ? (offline.result as { status: string }).status : outcome(offline)}`,
  );
  await story.ask(url(1), { type: "add-database-node", database: "Spade", tag: "B" });
  await cluster.waitFor(
    (c) =>
      (c.describe().documents["B"]?.["Spade"]?.length ?? 0) === 2 &&
      c.describe().databases[0]!.members.length === 2,
    { what: "users on B" },
  );
  story.step(
    "Manage group → Add node to group: B receives users/1 and users/2 and becomes a member",
  );
  await cluster.kill("A");
  await cluster.runFor(2000);
  story.step("Kill A: B cannot reach a majority, so there is no leader");
  const refused = await story.ask(url(2), { type: "create-database", name: "Pitchfork" });
  await story.ask(url(2), {
    type: "batch",
    database: "Spade",
    transaction: { puts: [{ id: "users/3", body: { name: "Written on B without a leader" } }] },
  });
  story.step(
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
  story.step("Restart A: the cluster elects a leader again and users/3 reaches A");
  for (const n of [3, 4, 5]) {
    await cluster.addServer();
    await story.ask(url(1), { type: "add-node", url: url(n) });
  }
  await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null), {
    what: "five nodes",
  });
  const onD = await story.untilKnown(url(4), "Spade");
  story.step(
    "Add C, D and E: every server sees the whole topology; Spade is offline on D",
    `Spade on D: ${onD.ok ? (onD.result as { status: string }).status : outcome(onD)}`,
  );
  const pitchfork = await story.ask(url(4), {
    type: "create-database",
    name: "Pitchfork",
    replicationFactor: 3,
  });
  const placed = pitchfork.ok ? (pitchfork.result as { nodes: string[] }).nodes : [];
  await story.ask(cluster.servers.find((s) => s.tag === placed[0])?.url ?? url(3), {
    type: "batch",
    database: "Pitchfork",
    transaction: { puts: [{ id: "tines/1", body: { tines: 3 } }] },
  });
  await cluster.waitFor(
    (c) =>
      placed.every((tag) => (c.describe().documents[tag]?.["Pitchfork"] ?? []).includes("tines/1")),
    { what: "tines/1 on every Pitchfork node" },
  );
  story.step(
    "Create Pitchfork with replication factor 3: the cluster places it on three servers",
    `${outcome(pitchfork)}; placed on ${placed.join(", ")}`,
  );
}

/** whatWasFound says in one line what the recovered servers hold. */
function whatWasFound(cluster: ClusterHandle): string {
  const description = cluster.describe();
  const nodes = description.cluster.map((s) => s.tag).join(", ");
  const databases = description.databases.map((db) => {
    const counts = db.members.map(
      (tag) => `${description.documents[tag]?.[db.name]?.length ?? 0} on ${tag}`,
    );
    return `${db.name} (documents: ${counts.join(", ")})`;
  });
  return `found nodes ${nodes}${description.leader ? `, ${description.leader} leading` : ", no leader yet"}; databases: ${databases.join("; ") || "none"}`;
}

/** recover is a run over an earlier run's folders: the servers come back, and say what they kept. */
async function recover(story: Story, dataDir: string, found: readonly number[]): Promise<string> {
  const { cluster } = story;
  const folders = found.map((index) => `${index + 1}`).join(", ");
  await cluster.waitFor(
    (c) => c.servers.every((s) => s.tag !== "?") && c.servers.some((s) => s.role === "leader"),
    { timeoutMs: 30_000, what: "the recovered servers to elect a leader" },
  );
  await cluster.runFor(500);
  story.step(
    `Recovering ${found.length} servers from ${dataDir} (folders ${folders}): an earlier run left them; each restarts from its own folder with its tag, the cluster, its databases and every acknowledged document`,
    whatWasFound(cluster),
  );
  return (
    `The story already ran over ${dataDir}, so this run recovered it instead of telling it again.\n` +
    `To tell it from the start, wipe those folders: ${invocation("walkthrough")} --runtime worker --data-dir ${dataDir} --fresh`
  );
}

export const walkthroughCommand: CommandSpec = {
  name: "walkthrough",
  summary: "the chapter's story headless: Spade, kill A, five nodes, Pitchfork",
  usage: [
    "[--json] [--seed S]",
    "--runtime worker [--storage fs|memory] [--data-dir DIR [--fresh]] [--json] [--seed S]",
  ],
  description: [
    "Tells the chapter's walkthrough step by step and prints, after each step, the Studio's",
    "screens as text: the cluster (tags, roles, leader, term), each database's group, and the",
    "documents each server holds. Spade is created on A, users/1 and users/2 are written, B joins,",
    "A is killed (no leader: a database cannot be created, a document can still be written),",
    "A comes back, C, D and E join, and Pitchfork gets replication factor 3.",
    "",
    "--runtime sim (the default) runs it in one thread on virtual time: the same every run.",
    "--runtime worker runs one Web Worker per server in real time, with fs storage in a",
    "temporary folder, or one folder per server under --data-dir (DIR/1, DIR/2 … like the",
    "chapter's Data/1). Run it again over the same --data-dir and it recovers those servers",
    "instead and shows what they kept; --fresh wipes the folders and tells the story anew.",
  ].join("\n"),
  options: {
    runtime: {
      type: "string",
      value: "sim|worker",
      help: "sim: virtual time, one thread (default); worker: a Web Worker per server",
    },
    storage: {
      type: "string",
      value: "fs|memory",
      help: "worker only: fs, one folder per server (default), or memory",
    },
    "data-dir": {
      type: "string",
      value: "DIR",
      help: "worker + fs: keep the servers' folders here (default: a temporary folder)",
    },
    fresh: {
      type: "boolean",
      help: "with --data-dir: wipe an earlier run's folders and start from the beginning",
    },
    json: { type: "boolean", help: "one JSON object per step instead of tables" },
    seed: { type: "string", value: "S", help: "the seed of the servers' randomness (default 1)" },
  },
  examples: [
    { command: "rookery walkthrough", what: "the story in virtual time, as tables" },
    { command: "rookery walkthrough --json", what: "one JSON object per step" },
    {
      command: "rookery walkthrough --runtime worker --data-dir ./data",
      what: "real workers, folders ./data/1 … ./data/5",
    },
    {
      command: "rookery walkthrough --runtime worker --data-dir ./data --fresh",
      what: "again from the start over the same folders",
    },
  ],

  async run(args: Args, out: Output): Promise<number> {
    const choice = await clusterChoice(args, "sim");
    const { dataDir, found } = choice;
    const recovering = found.length > 0 && !choice.fresh;
    const cluster: ClusterHandle = await Cluster.start(clusterOptions(choice, 2));
    const story = new Story(cluster, args.flag("json"), out);
    try {
      if (!recovering) {
        out.stderr.write(wipedNote(choice));
        await tellFromTheStart(story);
      } else {
        const offer = await recover(story, dataDir!, found);
        if (args.flag("json")) out.stderr.write(`${offer}\n`);
        else out.stdout.write(`\n${offer}\n`);
      }
    } finally {
      await cluster.stop();
    }
    return 0;
  },
};
