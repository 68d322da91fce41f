import { isRookeryError, SeededRandom } from "../../core/index.ts";
import type { Random } from "../../core/index.ts";
import { checkPeerMessage, describeValue } from "../../transport/index.ts";
import type { Envelope, ServerRequest, ServerResponse } from "../../transport/index.ts";
import { mutate, spare, strangeValue, validPeerMessage, validRequest } from "./fuzz-values.ts";
import type { SeedVerdict } from "./raft-sweep.ts";
import { SimCluster } from "./sim-cluster.ts";

/** FuzzOptions size one run of the boundary fuzzer. */
export interface FuzzOptions {
  readonly servers?: number;
  /** Client requests and peer messages sent in all. */
  readonly requests: number;
  /** Sent at once, then answered, before the next wave. */
  readonly waveSize?: number;
}

/** FuzzResult is the verdict on one fuzz seed, with what the servers answered. */
export interface FuzzResult extends SeedVerdict {
  /** Everything sent: client requests, peer messages and malformed envelopes. */
  readonly sent: number;
  readonly succeeded: number;
  /** Refusals by error code. */
  readonly refused: Readonly<Record<string, number>>;
}

/** An error code: a name in PascalCase, as every RookeryError has. */
const codePattern = /^[A-Z][A-Za-z]+$/;

class FuzzFailure extends Error {
  constructor(
    readonly property: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * runFuzzSeed fuzzes the server boundary: a cluster of servers with database Spade takes seeded
 * random requests (well-formed ones, and mutations of them: fields dropped or of the wrong type,
 * huge and deeply nested values, unknown fields and types), malformed peer messages and malformed
 * envelopes, sent through the simulated network to every server. Every client request must be
 * answered with a success or a named error; no server may throw; and afterwards every server
 * still takes a normal write, and the cluster a cluster-wide operation.
 *
 * Peer messages are always malformed: a well-formed message from a peer is trusted (Raft and
 * replication assume servers that follow the protocol), so only the boundary's refusals are fuzzed.
 */
export async function runFuzzSeed(seed: number, options: FuzzOptions): Promise<FuzzResult> {
  const run = new FuzzRun(seed, options);
  try {
    await run.build();
    await run.fuzz();
    await run.checkStillServes();
  } catch (error) {
    if (error instanceof FuzzFailure) run.fail(error.property, error.message);
    else run.fail("crash", (error as Error).stack ?? String(error));
  }
  await run.cluster.stop();
  return run.result();
}

class FuzzRun {
  readonly cluster: SimCluster;
  private readonly random: Random;
  private readonly trace: string[] = [];
  private readonly refused: Record<string, number> = {};
  private sent = 0;
  private succeeded = 0;
  private broken: { property: string; message: string } | undefined;

  constructor(
    private readonly seed: number,
    private readonly options: FuzzOptions,
  ) {
    this.random = new SeededRandom(seed ^ 0xf022);
    this.cluster = new SimCluster({ servers: options.servers ?? 3, seed });
  }

  fail(property: string, message: string): void {
    this.broken ??= { property, message };
  }

  result(): FuzzResult {
    return {
      seed: this.seed,
      ok: this.broken === undefined,
      ...(this.broken ? { broken: this.broken.property, message: this.broken.message } : {}),
      trace: this.trace,
      virtualMs: this.cluster.nowMs(),
      events: this.cluster.sim.eventsRun,
      sent: this.sent,
      succeeded: this.succeeded,
      refused: this.refused,
    };
  }

  private note(text: string): void {
    this.trace.push(`${this.cluster.nowMs().toFixed(1).padStart(9)}ms  ${text}`);
    if (this.trace.length > 20) this.trace.shift();
  }

  private tags(): string[] {
    return this.cluster.servers.map((s) => s.tag);
  }

  /** build makes the cluster: every server joins, Spade lives on all of them. */
  async build(): Promise<void> {
    const cluster = this.cluster;
    const first = cluster.urls[0]!;
    await this.expectOk(first, { type: "create-database", name: "Spade" }, "create Spade");
    for (const url of cluster.urls.slice(1))
      await this.expectOk(first, { type: "add-node", url }, `add ${url}`);
    const tags = cluster.servers.map((s) => s.tag);
    for (const tag of tags.slice(1))
      await this.expectOk(first, { type: "add-database-node", database: "Spade", tag }, tag);
    await cluster.waitFor(
      () => (cluster.databaseRecord("Spade")?.topology.members.length ?? 0) === tags.length,
      { what: "Spade on every server", timeoutMs: 20_000 },
    );
  }

  /** fuzz sends the requests in waves, each wave to random servers at once. */
  async fuzz(): Promise<void> {
    const waveSize = this.options.waveSize ?? 100;
    while (this.sent < this.options.requests) {
      const wave: Promise<void>[] = [];
      const size = Math.min(waveSize, this.options.requests - this.sent);
      for (let k = 0; k < size; k++) wave.push(this.sendOne());
      await Promise.all(wave);
    }
  }

  private async sendOne(): Promise<void> {
    const number = this.sent++;
    const url = this.random.pick(this.cluster.urls);
    const pick = this.random.next();
    if (pick < 0.7) return await this.clientRequest(number, url);
    if (pick < 0.9) return this.peerMessage(number, url);
    this.malformedEnvelope(number, url);
  }

  /** clientRequest sends a request, mutated four times in five, and checks the answer. */
  private async clientRequest(number: number, url: string): Promise<void> {
    const random = this.random;
    let request: unknown = validRequest(random, number);
    let what = "a well-formed request";
    if (random.chance(0.8)) {
      const done = mutate(
        random,
        request as Record<string, unknown>,
        random.between(0, 3),
        random.int(2),
      );
      what = done.length > 0 ? done.join(", ") : what;
    }
    if (random.chance(0.05)) {
      request = strangeValue(random);
      what = "a strange value as the request";
    }
    spare(request, this.tags());
    let response: ServerResponse;
    try {
      response = await this.cluster.request(url, request as ServerRequest);
    } catch (error) {
      // The value cannot be copied onto a transport (a deep nesting, a BigInt inside): a real
      // client fails to send it, and the server never sees it.
      if (error instanceof Error && /clone|call stack/i.test(`${error.name} ${error.message}`))
        return;
      throw error;
    }
    this.judge(number, url, response, what, request);
  }

  private judge(
    number: number,
    url: string,
    response: ServerResponse,
    what: string,
    request: unknown,
  ): void {
    if (response.ok) {
      this.succeeded++;
      return;
    }
    const { code, message } = response.error;
    const named = typeof code === "string" && codePattern.test(code);
    if (!named || typeof message !== "string" || message.length === 0)
      throw new FuzzFailure(
        "named error",
        `request ${number} to ${url} (${what}) got ${JSON.stringify(response.error)}`,
      );
    if (code === "RequestTimeout" || code === "ServerUnavailable")
      throw new FuzzFailure(
        "answered",
        `request ${number} to ${url} (${what}) was never answered: ${message}; request ${describeRequest(request)}`,
      );
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }

  /** peerMessage sends a malformed peer message as if from another server of the cluster. */
  private peerMessage(number: number, url: string): void {
    const random = this.random;
    const from = random.pick(this.cluster.urls.filter((u) => u !== url));
    const request = validRequest(random, number);
    mutate(random, request, random.between(0, 2), 0);
    spare(request, this.tags());
    const message = validPeerMessage(random, request);
    // A forward carries a request the leader checks; every other message is broken outright.
    if (message.type !== "forward") {
      do mutate(random, message, 1, random.int(2));
      while (isWellFormedPeerMessage(message));
    }
    this.note(`peer message ${number} (type ${describeValue(message.type)}) to ${url}`);
    this.cluster.net.send({ kind: "peer", from, to: url, message } as unknown as Envelope);
  }

  /** malformedEnvelope sends an envelope whose own fields are wrong: the server drops it. */
  private malformedEnvelope(number: number, url: string): void {
    const random = this.random;
    const envelope: Record<string, unknown> = {
      kind: random.pick(["request", "peer", "response", "nonsense"]),
      from: "client",
      to: url,
      requestId: number,
      request: { type: "node-info" },
      message: { type: "node-info-request", requestId: number },
    };
    mutate(random, envelope, 1, random.int(2));
    if (typeof envelope["from"] === "string") {
      envelope["to"] = url;
      this.cluster.net.send(envelope as unknown as Envelope);
    } else {
      // The network routes by address; an envelope without one is handed over as a transport
      // that delivered garbage would.
      this.cluster.server(url)?.receive(envelope as unknown as Envelope);
    }
  }

  /** checkStillServes: every server alive, a normal write on each, a cluster-wide operation. */
  async checkStillServes(): Promise<void> {
    const cluster = this.cluster;
    await cluster.runFor(1_000);
    const down = cluster.servers.filter((s) => !s.alive);
    if (down.length > 0)
      throw new FuzzFailure("alive", `${down.map((s) => s.url).join(", ")} died under fuzzing`);
    for (const [k, url] of cluster.urls.entries()) {
      await this.expectOk(
        url,
        {
          type: "batch",
          database: "Spade",
          transaction: { puts: [{ id: `after/${k}`, body: { written: "after the fuzzing" } }] },
        },
        `a normal write on ${url} after the fuzzing`,
      );
    }
    const leader = cluster.servers.find((s) => s.role === "leader")?.url ?? cluster.urls[0]!;
    await this.expectOk(
      leader,
      { type: "create-database", name: "AfterFuzz", replicationFactor: 1 },
      "a cluster-wide operation after the fuzzing",
    );
    await cluster.waitFor(
      (c) =>
        c.urls.every((url) =>
          cluster.urls.every((_, k) =>
            c.server(url)?.hostedDatabase("Spade")?.instance.get(`after/${k}`),
          ),
        ),
      { what: "the writes after the fuzzing on every server", timeoutMs: 10_000 },
    );
  }

  private async expectOk(url: string, request: ServerRequest, what: string): Promise<void> {
    const response = await this.cluster.request(url, request);
    if (!response.ok)
      throw new FuzzFailure(
        "serves",
        `${what} failed: ${response.error.code}: ${response.error.message}`,
      );
  }
}

function isWellFormedPeerMessage(message: unknown): boolean {
  try {
    checkPeerMessage(message);
    return true;
  } catch (error) {
    if (isRookeryError(error)) return false;
    throw error;
  }
}

function describeRequest(request: unknown): string {
  try {
    const text = JSON.stringify(request) ?? String(request);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(request);
  }
}
