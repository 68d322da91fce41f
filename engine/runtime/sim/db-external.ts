import type { NodeTag, Random } from "../../core/index.ts";
import type { ServerResponse } from "../../transport/index.ts";
import type { SimCluster } from "./sim-cluster.ts";

/** What the external variant of the database sweep reports through the sweep's own hooks. */
export interface ExternalHooks {
  readonly note: (text: string) => void;
  readonly fail: (property: string, message: string) => void;
}

/** The destination database's name in the second cluster. */
const destinationDatabase = "Backup";

/**
 * ExternalWorkload is the database sweep's external replication variant: a second cluster on
 * the same simulated network holds "Backup", and a task replicates Spade there. During the chaos
 * it kills and restarts the destination's servers, cuts the network between the clusters and
 * inside the destination, writes to Backup on its own (documents Spade never has), and adds
 * deletes and attachments to Spade's load. After the heal it checks that every destination
 * instance holds Spade's final state: every document, tombstone and revision with the source's
 * change vector, and every attachment's content.
 */
export class ExternalWorkload {
  private written = 0;

  private constructor(
    private readonly source: SimCluster,
    readonly destination: SimCluster,
    private readonly random: Random,
    private readonly hooks: ExternalHooks,
    private readonly destinationTags: readonly NodeTag[],
  ) {}

  /**
   * start builds the destination cluster (3 servers, Backup on 1 to 3 of them) and adds the task
   * on Spade, with a random mentor node or none, listing the destination's servers in a random
   * order (sometimes only one that does not host Backup, so the task must be redirected).
   */
  static async start(
    source: SimCluster,
    sourceTags: readonly NodeTag[],
    random: Random,
    hooks: ExternalHooks,
  ): Promise<ExternalWorkload> {
    const destination = await source.startSibling({ servers: 3 });
    const first = destination.urls[0]!;
    const setup = async (response: Promise<ServerResponse>, what: string): Promise<void> => {
      const answer = await response;
      if (!answer.ok) hooks.fail("setup", `${what}: ${answer.error.message}`);
    };
    for (const url of destination.urls.slice(1))
      await setup(destination.request(first, { type: "add-node", url }), `add ${url}`);
    const factor = random.between(1, 3);
    await setup(
      destination.request(first, {
        type: "create-database",
        name: destinationDatabase,
        replicationFactor: factor,
      }),
      `create ${destinationDatabase}`,
    );
    const urls = [...destination.urls].sort(() => random.next() - 0.5);
    const mentor = random.chance(0.5) ? random.pick(sourceTags) : null;
    await setup(
      source.request(source.urls[0]!, {
        type: "update-external-replication",
        database: "Spade",
        name: "offsite",
        destinationDatabase,
        destinationUrls: random.chance(0.3) ? urls.slice(0, 1) : urls,
        mentorNode: mentor,
      }),
      "add the external replication",
    );
    hooks.note(`external: Backup factor ${factor}, task mentor ${mentor ?? "none"}`);
    const tags = ["A", "B", "C"];
    return new ExternalWorkload(source, destination, random, hooks, tags);
  }

  /** chaos does one fault to the destination or between the clusters. */
  chaos(): void {
    const { random, destination, source } = this;
    const tag = random.pick(this.destinationTags);
    const pick = random.next();
    const alive = destination.servers.filter((s) => s.alive).length;
    if (pick < 0.25 && alive > 1 && destination.server(tag)) {
      this.hooks.note(`kill destination ${tag}`);
      void destination.kill(tag);
    } else if (pick < 0.45) {
      for (const t of this.destinationTags)
        if (!destination.server(t) && random.chance(0.7)) {
          this.hooks.note(`restart destination ${t}`);
          void destination.restart(t);
        }
    } else if (pick < 0.65) {
      this.hooks.note("partition source | destination");
      source.partition(source.urls, destination.urls);
    } else if (pick < 0.8) {
      const shuffled = [...this.destinationTags].sort(() => random.next() - 0.5);
      const cut = random.between(1, shuffled.length - 1);
      this.hooks.note(`partition destination ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
      destination.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    } else {
      this.hooks.note("heal destination");
      destination.heal();
    }
  }

  /**
   * write adds what the plain workload lacks: on Spade a file with an attachment, or the delete
   * of an earlier one (a tombstone to replicate); on Backup a document of its own, so the
   * destination group replicates its own writes while the task's arrive.
   */
  write(): void {
    const { random, source, destination } = this;
    const n = this.written++;
    if (random.chance(0.3)) {
      const url = random.pick(destination.urls);
      void destination.request(url, {
        type: "batch",
        database: destinationDatabase,
        transaction: { puts: [{ id: `local/${n}`, body: { n } }] },
      });
      return;
    }
    const url = random.pick(source.urls);
    const file = `files/${random.int(Math.max(1, n))}`;
    const transaction =
      random.chance(0.3) && n > 0
        ? { deletes: [{ id: file }] }
        : {
            puts: [{ id: file, body: { n } }],
            attachmentPuts: [{ documentId: file, name: "data.txt", content: `content ${n}` }],
          };
    void source.request(url, { type: "batch", database: "Spade", transaction });
  }

  /** heal ends every fault of the destination and restarts its servers. */
  async heal(): Promise<void> {
    this.destination.heal();
    for (const tag of this.destinationTags)
      if (!this.destination.server(tag)) await this.destination.restart(tag);
  }

  /**
   * check waits until every instance of Backup holds Spade's final state (read on `sourceTag`,
   * after Spade converged, and again at every look), and reports what differs if it does not
   * within 30 virtual seconds.
   * Returns how many items it compared.
   */
  async check(sourceTag: NodeTag): Promise<number> {
    // Read again on every look: a write a client sent before the heal can still land after
    // Spade converged, and Backup must then catch up with that too.
    let expected = replicatedState(this.source, sourceTag, "Spade");
    const hosts = (): NodeTag[] =>
      this.destinationTags.filter((tag) =>
        this.destination.server(tag)?.hostedDatabase(destinationDatabase),
      );
    const missing = (): string | undefined => {
      expected = replicatedState(this.source, sourceTag, "Spade");
      const holders = hosts();
      if (holders.length === 0) return "no server hosts Backup";
      for (const tag of holders) {
        const held = replicatedState(this.destination, tag, destinationDatabase);
        for (const [key, vector] of expected) {
          if (held.get(key) !== vector)
            return `${key} is ${held.get(key) ?? "missing"} on destination ${tag}, ${vector} on Spade`;
        }
      }
      return undefined;
    };
    try {
      await this.destination.waitFor(() => missing() === undefined, {
        what: "Backup to hold Spade's final state",
        timeoutMs: 30_000,
      });
    } catch {
      this.hooks.fail(
        "external replication",
        `after healing, Backup does not hold Spade's final state: ${missing()}`,
      );
    }
    return expected.size;
  }
}

/**
 * replicatedState is what external replication must carry, by item: every document and
 * tombstone with its change vector, every revision, and every attachment a document lists (with
 * whether its content is there).
 */
function replicatedState(cluster: SimCluster, tag: NodeTag, database: string): Map<string, string> {
  const state = new Map<string, string>();
  const instance = cluster.server(tag)?.hostedDatabase(database)?.instance;
  if (!instance) return state;
  for (const item of instance.itemsAfterEtag(0)) {
    if (item.kind === "attachment" || item.kind === "conflict") continue;
    if (item.id.toLowerCase().startsWith("local/")) continue;
    const key = `${item.kind}:${item.id.toLowerCase()}`;
    state.set(item.kind === "revision" ? `${key}@${item.changeVector}` : key, item.changeVector);
    if (item.kind !== "document") continue;
    for (const attachment of item.attachments) {
      const content = instance.getAttachment(item.id, attachment.name);
      state.set(`attachment:${key}/${attachment.name}`, content ? attachment.hash : "no content");
    }
  }
  return state;
}
