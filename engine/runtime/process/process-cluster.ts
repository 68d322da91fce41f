/**
 * ProcessCluster runs each server as its own operating-system process, listening on real HTTP
 * (http://127.0.0.N:8080 as in the chapter, or consecutive ports), behind the same API as the
 * other runtimes (ClusterHandle). The servers are the same engine; what differs are the
 * adapters: fs storage in DIR/1, DIR/2 …, a real clock, sockets between servers and the RavenDB
 * wire subset for clients, so the official `ravendb` client drives them unchanged.
 *
 * The parent only starts, stops and watches. Each child has an IPC channel to it: status pushes
 * for describe() and waitFor(), link faults (partition, heal), and the requests of Rookery's own
 * client (cluster.network). Servers never talk through the parent. kill() is SIGKILL: what the
 * server had not fsynced is lost, as in a real crash.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RookeryError } from "../../core/index.ts";
import type { ReplicationLimits } from "../../replication/index.ts";
import type { ClientNetwork } from "../../client/index.ts";
import type { TimingOptions, TraceEvent } from "../../server/index.ts";
import type { ServerRequest, ServerResponse } from "../../transport/index.ts";
import { findServer } from "../addresses.ts";
import { earlierData } from "../earlier-data.ts";
import { PendingCalls, pairKey, timedOut, unavailable } from "../host-calls.ts";
import { plainExecArgv, serverEntry } from "../host/node-bundles.ts";
import { serverFoldersWithData } from "../host/node-platform.ts";
import { epochMs, pollUntil, sleep, within } from "../real-time.ts";
import type { ClusterDescription, ClusterHandle, ServerSummary, WaitOptions } from "../handle.ts";
import {
  absorbStatus,
  applyStatusUpdate,
  describeRows,
  forgetStatus,
  rowTag,
  statusRowFields,
  summarizeRows,
} from "../status-book.ts";
import type { StatusRow } from "../status-book.ts";
import { TraceListeners } from "../trace-listeners.ts";
import { defaultPlan, defaultPort, freeBasePort, serverAddress } from "./addresses.ts";
import type { AddressPlan, ServerAddress } from "./addresses.ts";
import type { FromServer, HttpLimitOptions, ProcessServerConfig, ToServer } from "./protocol.ts";

/** How long a server process may take to open its storage, recover and listen. */
const startTimeoutMs = 30_000;
/** How long stop() waits for a server to shut down gracefully before it kills it. */
const shutdownTimeoutMs = 5_000;
/** Longer than a cluster-wide operation's wait for a leader, so that error reaches the client. */
const clientTimeoutMsDefault = 5_000;
/** How long a status refresh waits for its push. */
const refreshTimeoutMs = 5_000;
/** The tail of a server's stderr kept for the error that says why it died. */
const stderrTailBytesMax = 4_096;

/** ProcessClusterOptions describe a cluster of server processes. */
export interface ProcessClusterOptions {
  readonly servers?: number;
  /** The cluster's data folder, one subfolder per server (DIR/1, DIR/2 …). A fresh temporary
   * folder, removed by stop(), when omitted. */
  readonly dataDir?: string;
  /**
   * With dataDir: what to do with server folders an earlier run left there. true wipes them;
   * false recovers those servers (every one found starts); omitted, start refuses (ExistingData).
   */
  readonly fresh?: boolean;
  readonly seed?: number;
  readonly timing?: TimingOptions;
  readonly replicationLimits?: Partial<ReplicationLimits>;
  /**
   * "loopback": http://127.0.0.N:PORT (Linux's default); "ports": http://127.0.0.1:PORT+N-1 (the
   * default elsewhere).
   */
  readonly addresses?: AddressPlan;
  /** The port (the first port with "ports"); 8080 by default; "auto" finds one free on every address. */
  readonly port?: number | "auto";
  readonly http?: HttpLimitOptions;
  /** How often each server pushes trace events and a changed status (default 50 ms). */
  readonly statusIntervalMs?: number;
}

interface Slot extends StatusRow {
  readonly index: number;
  readonly address: ServerAddress;
  readonly dataDir: string;
  /** Restarts so far; seeds a fresh random stream for each life. */
  generation: number;
  child: ChildProcess | undefined;
  /** Resolves when the current child has exited and its pipes are closed. */
  exited: Promise<void> | undefined;
  stderr: string;
}

/** Every child of every process cluster of this process, killed if this process exits. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A parent that exits without stop() (a failed test, an uncaught error) takes its servers with
  // it; the children also stop on their own when their IPC channel closes.
  process.once("exit", () => {
    for (const live of liveChildren) live.kill("SIGKILL");
  });
}

/**
 * ProcessCluster is the process runtime's ClusterHandle; start one with ProcessCluster.start or
 * Cluster.start({ runtime: "process" }).
 */
export class ProcessCluster implements ClusterHandle {
  readonly network: ClientNetwork;
  /** The cluster's data folder (DIR/1, DIR/2 …). */
  readonly dataDir: string;
  /** How the servers got their addresses. */
  readonly addresses: AddressPlan;
  /** The port of the first server (every server's, with "loopback"). */
  readonly port: number;
  private readonly options: ProcessClusterOptions;
  private readonly ownsData: boolean;
  private readonly slots: Slot[] = [];
  private readonly requests = new PendingCalls<ServerResponse>();
  private readonly refreshes = new PendingCalls<void>();
  private readonly traceListeners = new TraceListeners();
  private readonly blockedPairs = new Set<string>();
  private readonly isolated = new Set<string>();
  private stopped = false;

  private constructor(
    options: ProcessClusterOptions,
    dataDir: string,
    ownsData: boolean,
    addresses: AddressPlan,
    port: number,
  ) {
    this.options = options;
    this.dataDir = dataDir;
    this.ownsData = ownsData;
    this.addresses = addresses;
    this.port = port;
    this.network = {
      request: (url, request, requestOptions) => this.request(url, request, requestOptions),
      nowMs: () => epochMs(),
    };
  }

  /** start launches `servers` processes in parallel and waits until every one listens. */
  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const count = options.servers ?? 1;
    const addresses = options.addresses ?? defaultPlan();
    if (addresses !== "loopback" && addresses !== "ports")
      throw new RookeryError(
        "InvalidOption",
        `addresses must be "loopback" or "ports", got ${String(addresses)}`,
      );
    const wanted = options.port ?? defaultPort;
    if (wanted !== "auto" && (!Number.isInteger(wanted) || wanted < 1 || wanted > 65_535))
      throw new RookeryError("InvalidOption", `port must be 1 to 65535 or "auto", got ${wanted}`);
    const ownsData = options.dataDir === undefined;
    const dataDir = resolve(options.dataDir ?? (await mkdtemp(join(tmpdir(), "rookery-"))));
    let servers = count;
    if (!ownsData) {
      const decided = earlierData(
        dataDir,
        await serverFoldersWithData(dataDir),
        count,
        options.fresh,
        (index) => join(dataDir, String(index + 1)),
      );
      for (const index of decided.wipe)
        await rm(join(dataDir, String(index + 1)), { recursive: true, force: true });
      servers = decided.count;
    }
    const port =
      options.port === "auto"
        ? await freeBasePort(addresses, servers)
        : (options.port ?? defaultPort);
    const cluster = new ProcessCluster(options, dataDir, ownsData, addresses, port);
    try {
      for (let index = 0; index < servers; index++) cluster.slots.push(cluster.newSlot(index));
      await Promise.all(cluster.slots.map((slot) => cluster.launch(slot)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  // --- servers -----------------------------------------------------------------------------------

  get urls(): string[] {
    return this.slots.map((slot) => slot.url);
  }

  get servers(): ServerSummary[] {
    return summarizeRows(this.slots);
  }

  /** folders lists each server's URL, tag and data folder, as `serve` prints them. */
  folders(): { readonly url: string; readonly tag: string; readonly dataDir: string }[] {
    return this.slots.map((slot) => ({ url: slot.url, tag: rowTag(slot), dataDir: slot.dataDir }));
  }

  /** pid is the process id of a running server (for tests that check what stop() leaves). */
  pid(tagOrUrl: string): number | undefined {
    return this.slot(tagOrUrl).child?.pid;
  }

  /** addServer starts one more fresh server; it shows "?" until it joins the cluster. */
  async addServer(): Promise<string> {
    this.assertRunning();
    const slot = this.newSlot(this.slots.length);
    this.slots.push(slot);
    await this.launch(slot);
    return slot.url;
  }

  /**
   * kill sends SIGKILL to a server's process: its sockets close as the kernel ends the process,
   * and whatever it had not fsynced is lost. Requests in flight to it fail.
   */
  async kill(tagOrUrl: string): Promise<void> {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    if (!slot.alive || !slot.child)
      throw new RookeryError("ServerDown", `${slot.url} is already down`);
    rowTag(slot);
    const { child, exited } = slot;
    this.markDown(slot, "the server was killed");
    child.kill("SIGKILL");
    await exited;
    this.emit([{ type: "server", atMs: epochMs(), url: slot.url, text: "killed (SIGKILL)" }]);
  }

  /** restart starts a new process on the server's folder and address; it recovers what was durable. */
  async restart(tagOrUrl: string): Promise<void> {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    if (slot.alive)
      throw new RookeryError("ServerRunning", `${slot.url} is running; kill it first`);
    slot.generation++;
    await this.launch(slot);
    this.emit([
      { type: "server", atMs: epochMs(), url: slot.url, text: `restarted as ${rowTag(slot)}` },
    ]);
  }

  /** partition cuts every link between two groups of servers (by tag or URL), at both ends. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.assertRunning();
    const a = groupA.map((s) => this.slot(s));
    const b = groupB.map((s) => this.slot(s));
    for (const x of a) for (const y of b) if (x !== y) this.blockedPairs.add(pairKey(x.url, y.url));
    for (const slot of new Set([...a, ...b])) this.applyLinks(slot);
  }

  /**
   * isolate cuts one server off from everyone: its peers, and its HTTP clients, whose connections
   * are reset as they arrive (a client fails over as it would from a server it cannot reach).
   */
  isolate(tagOrUrl: string): void {
    this.assertRunning();
    const slot = this.slot(tagOrUrl);
    this.isolated.add(slot.url);
    for (const other of this.slots) this.applyLinks(other);
  }

  /** heal ends every partition and isolation. */
  heal(): void {
    this.assertRunning();
    this.blockedPairs.clear();
    this.isolated.clear();
    for (const slot of this.slots) this.applyLinks(slot);
  }

  on(event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void {
    return this.traceListeners.on(event, listener);
  }

  /**
   * stop shuts every server down gracefully (queued writes finish, sockets and files close) and
   * waits until every process has exited, killing one that does not in time; a data folder the
   * cluster made up itself is removed. Nothing is left running.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const { child, exited } = slot;
        if (slot.alive) this.markDown(slot, "the cluster stopped");
        if (!child || !exited) return;
        if (child.connected) child.send({ kind: "shutdown" } satisfies ToServer);
        else child.kill("SIGTERM");
        await within(exited, shutdownTimeoutMs, `stopping ${slot.url}`).catch(async () => {
          child.kill("SIGKILL");
          await exited;
        });
      }),
    );
    if (this.ownsData) await rm(this.dataDir, { recursive: true, force: true });
  }

  // --- time ---------------------------------------------------------------------------------------

  /** nowMs is epoch milliseconds (real time), the same clock the servers use. */
  nowMs(): number {
    return epochMs();
  }

  /** runFor lets `durationMs` of real time pass, then refreshes every server's status. */
  async runFor(durationMs: number): Promise<void> {
    await sleep(durationMs);
    await this.refresh();
  }

  /** waitFor polls `condition` in real time until it holds, or fails after `timeoutMs`. */
  async waitFor(
    condition: (cluster: ProcessCluster) => boolean,
    options: WaitOptions = {},
  ): Promise<void> {
    await pollUntil(
      () => condition(this),
      options,
      () => this.stopped,
    );
  }

  /**
   * refresh asks every running server to push its status now and waits for those pushes (they
   * travel behind every earlier one on the same channel), so describe() is then current.
   */
  async refresh(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (!child?.connected || !slot.alive) return;
        // A hung server keeps its last status; its exit (or kill) marks it down.
        await this.refreshes.call(
          slot.url,
          refreshTimeoutMs,
          () => undefined,
          (id) => child.send({ kind: "refresh", id } satisfies ToServer),
        );
      }),
    );
  }

  // --- clients ------------------------------------------------------------------------------------

  /**
   * request sends one request of Rookery's own client to the server at `url` over its control
   * channel. A killed server answers ServerUnavailable at once; an isolated one does not answer,
   * so the request times out.
   */
  request(
    url: string,
    request: ServerRequest,
    options: { readonly timeoutMs?: number; readonly from?: string } = {},
  ): Promise<ServerResponse> {
    const slot = this.slots.find((s) => s.url === url);
    if (this.stopped) return Promise.resolve(unavailable(url, "the cluster was stopped"));
    if (!slot) return Promise.resolve(unavailable(url, "no server listens there"));
    const child = slot.child;
    if (!slot.alive || !child?.connected)
      return Promise.resolve(unavailable(url, "the server is down"));
    const timeoutMs = options.timeoutMs ?? clientTimeoutMsDefault;
    if (this.isolated.has(url))
      return sleep(timeoutMs).then(() => timedOut(url, request, timeoutMs));
    return this.requests.call(
      url,
      timeoutMs,
      () => timedOut(url, request, timeoutMs),
      (id) => child.send({ kind: "request", id, request } satisfies ToServer),
    );
  }

  // --- description --------------------------------------------------------------------------------

  /** describe returns the cluster as plain JSON from every server's latest status. */
  describe(): ClusterDescription {
    return describeRows(this.slots, epochMs());
  }

  // --- internals ------------------------------------------------------------------------------------

  private newSlot(index: number): Slot {
    const address = serverAddress(this.addresses, this.port, index);
    return {
      ...statusRowFields(),
      index,
      url: address.url,
      address,
      dataDir: join(this.dataDir, String(index + 1)),
      generation: 0,
      child: undefined,
      exited: undefined,
      stderr: "",
    };
  }

  /** launch forks the slot's server process and waits until it listens (or says why it cannot). */
  private async launch(slot: Slot): Promise<void> {
    const file = await serverEntry("process");
    const seed =
      ((this.options.seed ?? 1) * 1_000_003 + slot.index * 7_919 + slot.generation * 104_729) >>> 0;
    const config: ProcessServerConfig = {
      url: slot.url,
      host: slot.address.host,
      port: slot.address.port,
      dataDir: slot.dataDir,
      seed,
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.replicationLimits
        ? { replicationLimits: this.options.replicationLimits }
        : {}),
      ...(this.options.http ? { http: this.options.http } : {}),
      statusIntervalMs: this.options.statusIntervalMs ?? 50,
    };
    const child = fork(file, [JSON.stringify(config)], {
      execArgv: plainExecArgv(process.execArgv),
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
    });
    track(child);
    slot.child = child;
    slot.stderr = "";
    // "close" comes after "exit", once the process's stdio pipes closed too: then nothing of it is left.
    slot.exited = new Promise<void>((done) => child.once("close", () => done()));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      slot.stderr = (slot.stderr + text).slice(-stderrTailBytesMax);
    });
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      child.on("message", (message: FromServer) => {
        if (slot.child !== child) return;
        if (message.kind === "ready") {
          slot.alive = true;
          absorbStatus(slot, message.status);
          resolveReady();
          return;
        }
        if (message.kind === "failed") {
          rejectReady(new RookeryError(message.code, message.message, { url: slot.url }));
          return;
        }
        this.fromServer(slot, message);
      });
      child.once("exit", (code, signal) => {
        const why = signal ? `signal ${signal}` : `exit code ${String(code)}`;
        rejectReady(
          new RookeryError(
            "ServerStartFailed",
            `${slot.url} exited before it was ready (${why})${slot.stderr ? `: ${slot.stderr.trim()}` : ""}`,
            { url: slot.url },
          ),
        );
        if (slot.child !== child) return;
        if (slot.alive) {
          this.markDown(slot, `the server exited (${why})`);
          this.emit([{ type: "server", atMs: epochMs(), url: slot.url, text: `exited: ${why}` }]);
        }
        slot.child = undefined;
      });
    });
    try {
      await within(ready, startTimeoutMs, `starting ${slot.url}`, "ServerStartFailed");
    } catch (error) {
      if (slot.child === child) {
        slot.alive = false;
        child.kill("SIGKILL");
        await slot.exited;
      }
      throw error;
    }
    this.applyLinks(slot);
  }

  private fromServer(slot: Slot, message: FromServer): void {
    if (message.kind === "response") return this.requests.settle(message.id, message.response);
    if (message.kind !== "status") return;
    applyStatusUpdate(slot, message);
    if (message.events.length > 0) this.emit(message.events);
    if (message.refreshed !== undefined) this.refreshes.settle(message.refreshed, undefined);
  }

  /** applyLinks tells one running server which peers it is cut off from now. */
  private applyLinks(slot: Slot): void {
    const child = slot.child;
    if (!child?.connected || !slot.alive) return;
    const isolated = this.isolated.has(slot.url);
    const blocked = this.slots
      .filter(
        (other) =>
          other !== slot &&
          (isolated ||
            this.isolated.has(other.url) ||
            this.blockedPairs.has(pairKey(slot.url, other.url))),
      )
      .map((other) => other.url);
    child.send({ kind: "links", blocked, isolated } satisfies ToServer);
  }

  /** markDown forgets a server's status; pending requests fail as a refused connection would. */
  private markDown(slot: Slot, why: string): void {
    forgetStatus(slot);
    this.refreshes.abandon(slot.url, () => undefined);
    this.requests.abandon(slot.url, () => unavailable(slot.url, why));
  }

  private slot(tagOrUrl: string): Slot {
    return findServer(this.slots, tagOrUrl, (slot) => rowTag(slot));
  }

  private assertRunning(): void {
    if (this.stopped)
      throw new RookeryError("ClusterStopped", "the cluster was stopped; start a new one");
  }

  private emit(events: readonly TraceEvent[]): void {
    this.traceListeners.emit(events);
  }
}
