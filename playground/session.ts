/**
 * PlaygroundSession runs one chapter's cluster for its playground: it starts the servers (or
 * brings them back from storage after a reload), replays the scenario's steps, performs the
 * reader's actions, and keeps an Atom<PlaygroundState> current for the views. The runtime is one
 * argument: "worker" (one Web Worker per server, IndexedDB; the book) or "sim" (virtual time in
 * this thread; unit tests).
 */
import type {
  AttachmentView,
  ClusterHandle,
  ClusterOptions,
  DocumentStore,
  DocumentView,
  RevisionView,
  ServerRequest,
  TraceEvent,
} from "../engine/index.ts";
import { decodeShared, encodeShared, logEntriesMax, shareParam } from "./action-log.ts";
import type { LogEntry } from "./action-log.ts";
import { ActionFailed, outcome, resolveServer, runAction, waitUntil } from "./actions.ts";
import type { ClientActions } from "./actions.ts";
import { Clients } from "./clients.ts";
import type { ReadBalance } from "./clients.ts";
import type { ActionContext } from "./actions.ts";
import { Atom } from "./atom.ts";
import type {
  DatabaseStatus,
  Flow,
  Lag,
  NetworkCut,
  OpenDocument,
  RaftMessageView,
  PlaygroundState,
  ResultArea,
  StepView,
  TimelineEntry,
} from "./model.ts";
import {
  forgetPlayground,
  loadPending,
  loadPlayground,
  loadSpeed,
  notePending,
  savePlayground,
  saveSpeed,
} from "./persistence.ts";
import type { KeyValueStore, SavedPlayground, SlowLink } from "./persistence.ts";
import type { Action, Scenario, Step } from "./scenarios.ts";
import {
  appendTimeline,
  defaultSpeed,
  electionTimeoutMaxMs,
  flowTripMs,
  lagsMax,
  raftMessagesMax,
  normalizeServerUrl,
  parseDocumentText,
  serverName,
  speeds,
  timelineEntries,
  timingForSpeed,
  validateDocumentId,
} from "./view-model.ts";
import { checkAction, checkStep } from "./walkthrough.ts";
import type { CheckContext } from "./walkthrough.ts";

export type StartCluster = (options: ClusterOptions) => Promise<ClusterHandle>;

/**
 * SessionHooks let a page look over the reader's shoulder: an exercise page records what the
 * reader does (every action through a recording handle), builds its starting state after the
 * scenario's, and gives the reader a client (a DocumentStore) to write and read through.
 */
export interface SessionHooks {
  /** The session's cluster changed: started, restored, or stopped (null). */
  attach?(cluster: ClusterHandle | null): void;
  /** The handle the reader's actions go through (a recording one); absent: the cluster itself. */
  acting?(): ClusterHandle | null;
  /** Runs on a fresh cluster after the scenario's setup (Reset runs it again). */
  setup?(cluster: ClusterHandle): Promise<void>;
  /** The client the reader's store actions use (clientSave, clientLoad). */
  store?(): DocumentStore | null;
  /** After each reader action, once its outcome is known. */
  acted?(): void;
}

export interface SessionOptions {
  readonly scenario: Scenario;
  readonly runtime: "sim" | "worker";
  /** localStorage, or null to remember nothing. */
  readonly store: KeyValueStore | null;
  /** How clusters start; the default imports the engine lazily, so a page's first JS stays small. */
  readonly startCluster?: StartCluster;
  /** Forget IndexedDB data of a cluster name (Reset); worker runtime only. */
  readonly deleteData?: (name: string, urls: readonly string[]) => Promise<void>;
  /** How often the panels are refreshed from the cluster; 0 leaves it to refresh() (tests). */
  readonly refreshMs?: number;
  /** Page clock, for the graph's animations. */
  readonly now?: () => number;
  /** How long a step may wait for what it promises (real ms for workers, virtual for sim). */
  readonly stepTimeoutMs?: number;
  /** sim: let virtual time follow the page's clock (default); tests advance it themselves. */
  readonly driveSimClock?: boolean;
  /** Exercise pages: recording, a starting state built by code, a client. */
  readonly hooks?: SessionHooks;
}

/** loadEngine imports the engine on first use, so a chapter page's first JavaScript stays small. */
export const loadEngine = () => import("../engine/index.ts");

/**
 * Clusters start through the engine's public entry; Cluster.start loads the simulator only for
 * runtime "sim", so the book's worker playgrounds never bring it into the page.
 */
const defaultStartCluster: StartCluster = async (options) =>
  (await loadEngine()).Cluster.start(options);

async function defaultDeleteData(name: string, urls: readonly string[]): Promise<void> {
  const { deleteIndexedDbStorage } = await loadEngine();
  await Promise.all(urls.map((url) => deleteIndexedDbStorage(name, url).catch(() => {})));
}

function initialState(
  scenario: Scenario,
  runtime: "sim" | "worker",
  speed: number,
): PlaygroundState {
  return {
    phase: "idle",
    pausedBy: null,
    busy: null,
    servers: [],
    description: null,
    selectedUrl: scenario.startOn ?? "http://127.0.0.1:8080",
    statuses: {},
    selectedDatabase: scenario.database ?? null,
    documents: null,
    openDocument: null,
    timeline: [],
    flows: [],
    lags: [],
    rachis: [],
    raftMessages: [],
    cuts: [],
    step: stepView(scenario, 0, scenario.intro),
    speed,
    message: null,
    runtime,
    undo: null,
    logged: 0,
    clients: [],
  };
}

/** stepView is the walkthrough after `done` steps, before anything about the next one is known. */
function stepView(
  scenario: Scenario,
  done: number,
  explanation: string,
  extra: Partial<StepView> = {},
): StepView {
  const next: Step | undefined = scenario.steps[done];
  return {
    done,
    total: scenario.steps.length,
    lastTitle: scenario.steps[done - 1]?.title ?? null,
    explanation,
    nextTitle: next?.title ?? null,
    alreadyDone: [],
    predict: next?.predict
      ? { question: next.predict.question, choices: next.predict.choices }
      : null,
    picked: null,
    reveal: null,
    failed: null,
    ...extra,
  };
}

export class PlaygroundSession {
  readonly state: Atom<PlaygroundState>;
  private readonly scenario: Scenario;
  private readonly options: SessionOptions;
  private readonly startCluster: StartCluster;
  private cluster: ClusterHandle | null = null;
  private clusterName = "";
  private originMs = 0;
  private killedUrl: string | null = null;
  private slowLinks: SlowLink[] = [];
  private nextEntryId = 1;
  private nextFlowId = 1;
  /** The Rachis panel is open: servers trace their Raft messages for it. */
  private watchingRachis = false;
  private unsubscribe: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The refresh in flight, and the one waiting to run after it (see refresh). */
  private refreshing: Promise<void> | null = null;
  private refreshQueued: Promise<void> | null = null;
  private simDriver: { stop: boolean } | null = null;
  private lifecycle: Promise<void> = Promise.resolve();
  private disposed = false;
  /** The section's setup finished (or the cluster came back from a save): safe to save it. */
  private ready = false;
  /** What the reader did since the section's start (see action-log.ts). */
  private log: LogEntry[] = [];
  /** The page's clients (Scenario.clients), built once the engine has loaded. */
  private clientsModel: Clients | null = null;

  constructor(options: SessionOptions) {
    this.options = options;
    this.scenario = options.scenario;
    this.startCluster = options.startCluster ?? defaultStartCluster;
    const speed = loadSpeed(
      options.store,
      speeds.map((s) => s.value),
      defaultSpeed,
    );
    this.state = new Atom(initialState(options.scenario, options.runtime, speed));
  }

  private get s(): PlaygroundState {
    return this.state.get();
  }

  private patch(change: Partial<PlaygroundState>): void {
    this.state.update((state) => ({ ...state, ...change }));
  }

  /** engine loads the engine module (for benchmarks and the curious reader's console). */
  engine(): ReturnType<typeof loadEngine> {
    return loadEngine();
  }

  /** The name the cluster's data is kept under (IndexedDB), "" before the first start. */
  get name(): string {
    return this.clusterName;
  }

  /** The cluster, for tests and benchmarks that look beneath the panels. */
  get handle(): ClusterHandle | null {
    return this.cluster;
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  /**
   * open brings the playground up: from the saved state when there is one (worker runtime: the
   * servers recover from IndexedDB), otherwise from the scenario's start.
   */
  open(shared?: string | null): Promise<void> {
    return this.serialize(async () => {
      if (shared) {
        const decoded = decodeShared(shared);
        if (decoded.ok && decoded.state.s === this.scenario.id) {
          await this.deleteOrphan(undefined);
          await this.discard();
          await this.replay(decoded.state.log, "Restoring the linked state");
          if (decoded.state.url) this.select(decoded.state.url);
          if (decoded.state.db) this.selectDatabase(decoded.state.db);
          return;
        }
        if (!decoded.ok) this.note(decoded.error, true, "share");
      }
      const saved =
        this.options.runtime === "worker"
          ? loadPlayground(this.options.store, this.scenario.id)
          : null;
      await this.deleteOrphan(saved?.clusterName);
      if (saved) {
        try {
          await this.restore(saved);
          return;
        } catch (error) {
          this.note(
            `Could not bring the saved cluster back (${messageOf(error)}); starting the section again.`,
            true,
            "clock",
          );
          await this.discard();
        }
      }
      await this.fresh();
    });
  }

  /** deleteOrphan deletes the data of a cluster whose setup a previous visit did not finish. */
  private async deleteOrphan(keep: string | undefined): Promise<void> {
    const pending = loadPending(this.options.store, this.scenario.id);
    if (!pending || this.options.runtime !== "worker") return;
    notePending(this.options.store, this.scenario.id, null);
    if (pending === keep) return;
    const urls = Array.from(
      { length: Math.max(8, this.scenario.servers) },
      (_, i) => `http://127.0.0.${i + 1}:8080`,
    );
    await (this.options.deleteData ?? defaultDeleteData)(pending, urls);
  }

  /** reset returns to the section's start: new servers with empty storage, the walkthrough at 0. */
  reset(): Promise<void> {
    return this.serialize(async () => {
      this.patch({ busy: "Resetting" });
      await this.discard();
      this.log = [];
      this.state.set({
        ...initialState(this.scenario, this.options.runtime, this.s.speed),
        busy: "Resetting",
      });
      await this.fresh();
    });
  }

  /**
   * pause freezes the servers where they are: no ticks, no timers, messages held (workers are
   * suspended through their host; the simulator's clock stops). Nothing times out meanwhile, so
   * resuming causes no election.
   */
  pause(by: "reader" | "scroll" = "reader"): Promise<void> {
    return this.serialize(async () => {
      if (this.s.phase !== "running" || !this.cluster) return;
      if (this.options.runtime === "sim") {
        if (this.simDriver) this.simDriver.stop = true;
        this.simDriver = null;
        this.patch({ phase: "paused", pausedBy: by });
        return;
      }
      this.patch({ phase: "pausing" });
      this.persist();
      if (this.cluster.suspend) await this.cluster.suspend();
      else await this.stopCluster();
      this.patch({ phase: "paused", pausedBy: by });
    });
  }

  /** resume lets the servers run on from where they were (a paused scroll resumes on its own). */
  resume(): Promise<void> {
    return this.serialize(async () => {
      if (this.s.phase !== "paused") return;
      if (this.options.runtime === "sim" && this.cluster) {
        if (this.options.driveSimClock !== false) this.driveSimClock(this.cluster);
        this.patch({ phase: "running", pausedBy: null });
        return;
      }
      if (this.cluster?.resume) {
        await this.cluster.resume();
        this.patch({ phase: "running", pausedBy: null });
        await this.refresh();
        return;
      }
      const saved = this.snapshot();
      await this.restore(saved);
    });
  }

  /** setSpeed changes every engine interval; running servers are re-timed where they are. */
  setSpeed(speed: number): Promise<void> {
    return this.serialize(async () => {
      if (speed === this.s.speed) return;
      saveSpeed(this.options.store, speed);
      this.patch({ speed });
      if (this.options.runtime !== "worker" || !this.cluster) return;
      if (this.cluster.setTiming) {
        await this.cluster.setTiming(timingForSpeed(speed));
        return;
      }
      if (this.s.phase === "running") {
        this.patch({ busy: "Changing speed" });
        const saved = this.snapshot();
        await this.stopCluster();
        await this.restore(saved);
        this.patch({ busy: null });
      }
    });
  }

  /** watchRachis turns the Rachis panel's feed on or off: each server's Raft messages. */
  watchRachis(on: boolean): void {
    this.watchingRachis = on;
    this.cluster?.traceRaftMessages?.(on);
    if (!on) this.patch({ raftMessages: [] });
  }

  /** clusterNowMs is the cluster's clock (it stands still while paused): what animations follow. */
  clusterNowMs(): number {
    return this.cluster?.nowMs() ?? this.originMs;
  }

  /** dispose stops everything (the page is going away or the island unmounts). */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.clientsModel?.dispose();
    this.persist();
    await this.stopCluster();
  }

  private serialize(work: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(async () => {
      if (this.disposed) return;
      try {
        await work();
      } catch (error) {
        this.patch({ phase: this.cluster ? this.s.phase : "failed", busy: null });
        this.note(messageOf(error), true, "clock");
      }
    });
    this.lifecycle = run;
    return run;
  }

  private async launch(name: string, servers: number): Promise<ClusterHandle> {
    const cluster = await this.startCluster({
      runtime: this.options.runtime,
      servers,
      ...(this.options.runtime === "worker" ? { storage: "indexeddb" as const, name } : {}),
      timing: timingForSpeed(this.s.speed),
      ...(this.scenario.replicationLimits
        ? { replicationLimits: this.scenario.replicationLimits }
        : {}),
    });
    this.cluster = cluster;
    this.options.hooks?.attach?.(cluster);
    this.unsubscribe = cluster.on("trace", (events) => this.onTrace(events));
    if (this.watchingRachis) cluster.traceRaftMessages?.(true);
    if (this.options.runtime === "sim" && this.options.driveSimClock !== false)
      this.driveSimClock(cluster);
    const refreshMs = this.options.refreshMs ?? 250;
    if (refreshMs > 0) this.timer = setInterval(() => void this.refresh(), refreshMs);
    await this.startClients();
    return cluster;
  }

  /** startClients gives a new cluster new clients: nothing learned, nothing cut off. */
  private async startClients(): Promise<void> {
    const count = this.scenario.clients ?? 0;
    if (count === 0) return;
    if (this.clientsModel) this.clientsModel.reset();
    else {
      const { DocumentStore } = await loadEngine();
      this.clientsModel = new Clients(
        {
          network: () => (this.s.phase === "running" ? (this.cluster?.network ?? null) : null),
          nowMs: () => this.cluster?.nowMs() ?? this.originMs,
          originMs: () => this.originMs,
          urls: () => this.cluster?.urls ?? [],
          makeStore: (options) => new DocumentStore(options),
          slow: () => 1 / this.s.speed,
          changed: () => this.patch({ clients: this.clientsModel?.views() ?? [] }),
        },
        this.scenario.database ?? "Spade",
        count,
      );
    }
    this.patch({ clients: this.clientsModel.views() });
  }

  private clientActions(): ClientActions | null {
    const model = this.clientsModel;
    if (!model) return null;
    return {
      save: (client, id, body, replicas) => model.save(client, id, body, replicas),
      load: async (client, id) => (await model.load(client, id)).text,
      setReadBalance: (client, mode) => model.setReadBalance(client, mode),
      setCutOff: (client, urls) => model.setCutOff(client, urls),
    };
  }

  private async fresh(): Promise<void> {
    this.patch({ phase: "starting", busy: "Starting the servers" });
    this.clusterName = `${this.scenario.id}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.killedUrl = null;
    this.slowLinks = [];
    this.ready = false;
    if (this.options.runtime === "worker")
      notePending(this.options.store, this.scenario.id, this.clusterName);
    const cluster = await this.launch(this.clusterName, this.scenario.servers);
    this.originMs = cluster.nowMs();
    this.patch({
      phase: "running",
      busy: this.scenario.setup.length > 0 ? "Preparing the section's starting state" : null,
    });
    await this.refresh();
    const context = this.actionContext(cluster);
    for (const action of this.scenario.setup) await runAction(context, action);
    if (this.options.hooks?.setup) {
      this.patch({ busy: "Preparing the exercise's starting state" });
      await this.options.hooks.setup(cluster);
    }
    this.killedUrl = null;
    this.patch({ busy: null });
    await this.refresh();
    this.ready = true;
    this.persist();
    if (this.options.runtime === "worker") notePending(this.options.store, this.scenario.id, null);
  }

  private async restore(saved: SavedPlayground): Promise<void> {
    this.patch({ phase: "starting", busy: "Starting the servers from their storage" });
    this.clusterName = saved.clusterName;
    this.originMs = saved.originMs;
    this.killedUrl = saved.killedUrl;
    this.log = [...(saved.log ?? [])];
    this.noteLog();
    this.nextEntryId = Math.max(this.nextEntryId, ...saved.timeline.map((entry) => entry.id + 1));
    const done = Math.min(saved.stepsDone, this.scenario.steps.length);
    this.patch({
      selectedUrl: saved.selectedUrl,
      selectedDatabase: saved.selectedDatabase,
      cuts: saved.cuts,
      timeline: saved.timeline.length >= this.s.timeline.length ? saved.timeline : this.s.timeline,
      step: stepView(
        this.scenario,
        done,
        done > 0 ? this.scenario.steps[done - 1]!.explanation : this.scenario.intro,
      ),
    });
    const cluster = await this.launch(saved.clusterName, saved.servers);
    // A server that was down stays down: the host starts every server from its storage, so the
    // dead ones are stopped again before their first election timeout could fire.
    for (const url of saved.down) await cluster.kill(url).catch(() => {});
    for (const cut of saved.cuts) cluster.partition(cut.a, cut.b);
    this.slowLinks = [];
    for (const link of saved.slowLinks ?? []) this.applySlowLink(link);
    this.ready = true;
    this.patch({ phase: "running", pausedBy: null, busy: null });
    await this.refresh();
  }

  private async stopCluster(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.simDriver) this.simDriver.stop = true;
    this.simDriver = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    const cluster = this.cluster;
    this.cluster = null;
    if (cluster) this.options.hooks?.attach?.(null);
    await cluster?.stop();
  }

  /** discard stops the cluster and forgets it: saved state and (workers) its IndexedDB data. */
  private async discard(): Promise<void> {
    const urls = this.cluster?.urls ?? [];
    const saved = loadPlayground(this.options.store, this.scenario.id);
    await this.stopCluster();
    forgetPlayground(this.options.store, this.scenario.id);
    if (this.options.runtime === "worker") {
      const name = saved?.clusterName ?? this.clusterName;
      const all = new Set([
        ...urls,
        ...Array.from({ length: saved?.servers ?? 0 }, (_, i) => `http://127.0.0.${i + 1}:8080`),
      ]);
      if (name) await (this.options.deleteData ?? defaultDeleteData)(name, [...all]);
    }
  }

  /**
   * The sim runtime runs in virtual time; here it follows the page's clock, scaled by the speed,
   * one frame at a time (requests drive it further on their own).
   */
  private driveSimClock(cluster: ClusterHandle): void {
    const driver = { stop: false };
    this.simDriver = driver;
    const frame =
      typeof requestAnimationFrame === "function"
        ? (f: () => void) => requestAnimationFrame(f)
        : (f: () => void) => setTimeout(f, 16);
    let last = this.now();
    const loop = async () => {
      if (driver.stop) return;
      const now = this.now();
      const elapsed = Math.min(100, now - last);
      last = now;
      await cluster.runFor(elapsed * this.s.speed * 4).catch(() => {});
      frame(() => void loop());
    };
    frame(() => void loop());
  }

  private now(): number {
    return (
      this.options.now?.() ?? (typeof performance !== "undefined" ? performance.now() : Date.now())
    );
  }

  // --- the walkthrough -----------------------------------------------------------------------------

  /** pick records the reader's prediction for the next step (see Predict in scenarios.ts). */
  pick(choice: number): void {
    const { step } = this.s;
    if (!step.predict || choice < 0 || choice >= step.predict.choices.length) return;
    this.patch({ step: { ...step, picked: choice } });
  }

  private checkContext(cluster: ClusterHandle): CheckContext {
    return { cluster, killedUrl: this.killedUrl, cuts: this.s.cuts };
  }

  /**
   * nextStep replays the walkthrough's next action and waits until its explanation is true. What
   * the reader already did by hand is not done again (Spade created by hand stays as it is), and
   * a step that cannot run says what differs; Skip this step then moves past it.
   */
  nextStep(): Promise<void> {
    // Busy at once (not when the queue reaches this step), so the controls and anyone watching
    // them see the step start the moment it is asked for.
    const upcoming = this.scenario.steps[this.s.step.done];
    if (upcoming && this.s.phase === "running") this.patch({ busy: upcoming.title });
    return this.serialize(async () => {
      const cluster = this.requireRunning();
      if (await this.takeStep(cluster)) this.record({ t: "step" });
      await this.refresh();
      this.persist();
    });
  }

  /** takeStep runs the next step (see nextStep); true when it finished. */
  private async takeStep(cluster: ClusterHandle): Promise<boolean> {
    const index = this.s.step.done;
    const step = this.scenario.steps[index];
    if (!step) {
      this.patch({ busy: null });
      return false;
    }
    this.patch({ busy: step.title, message: null, step: { ...this.s.step, failed: null } });
    this.addAction(`Next step: ${step.title}`);
    const context = this.actionContext(cluster);
    const results: string[] = [];
    const already: string[] = [];
    try {
      for (const action of step.actions) {
        // Checked one by one: an earlier action of the step may change what a later one finds.
        const check = checkAction(this.checkContext(cluster), action);
        if (check.state === "done") {
          already.push(check.why);
          continue;
        }
        if (check.state === "blocked") throw new ActionFailed(check.why);
        results.push(await runAction(context, action));
      }
      if (step.until) await waitUntil(context, step.until);
    } catch (error) {
      const why = `“${step.title}” did not finish: ${messageOf(error)}`;
      this.patch({ busy: null, step: { ...this.s.step, failed: why } });
      this.note(
        `${why}. Fix it with the panels and press Next step again, or Skip this step.`,
        true,
        "step",
      );
      return false;
    }
    this.killedUrl = context.killedUrl;
    const last = results
      .filter((r) => !r.startsWith("switched") && !r.startsWith("done waiting"))
      .pop();
    const reveal = step.predict
      ? {
          question: step.predict.question,
          choices: step.predict.choices,
          picked: this.s.step.picked,
          answer: step.predict.answer,
          explain: step.predict.explain,
        }
      : null;
    this.patch({
      busy: null,
      step: stepView(this.scenario, index + 1, step.explanation, { reveal }),
    });
    const said = [
      already.length > 0 ? `Already done by hand: ${already.join("; ")}.` : "",
      last ? `${capitalize(last)}.` : "",
    ].filter(Boolean);
    if (said.length > 0) this.note(said.join(" "), false, "step");
    return true;
  }

  /** skipStep moves past a step the reader cannot or will not run; nothing of it happens. */
  skipStep(): Promise<void> {
    return this.serialize(async () => {
      if (this.skipNow()) this.record({ t: "skip" });
      this.persist();
    });
  }

  private skipNow(): boolean {
    const index = this.s.step.done;
    const step = this.scenario.steps[index];
    if (!step) return false;
    this.addAction(`Skipped step: ${step.title}`);
    this.patch({
      step: stepView(
        this.scenario,
        index + 1,
        `You skipped “${step.title}”: nothing of it ran, and the walkthrough goes on from the cluster as it is.`,
      ),
    });
    this.note(`Skipped “${step.title}”.`, false, "step");
    return true;
  }

  // --- the action log: Back one step and links that carry a state ---------------------------------

  /** record adds an entry to the action log (up to logEntriesMax; beyond, Back and links stop there). */
  private record(entry: LogEntry): void {
    if (this.log.length >= logEntriesMax) return;
    this.log.push(entry);
    this.noteLog();
  }

  private noteLog(): void {
    const last = this.log[this.log.length - 1];
    const undo = !last
      ? null
      : last.t === "do"
        ? last.label
        : last.t === "skip"
          ? "Skip this step"
          : `Next step ${this.log.filter((e) => e.t !== "do").length}`;
    this.patch({ undo, logged: this.log.length });
  }

  /**
   * back undoes the last thing the reader did: a fresh cluster replays the action log without
   * its last entry (the chapter's servers are real, so there is no undoing them in place).
   */
  back(): Promise<void> {
    if (this.log.length === 0) return Promise.resolve();
    if (this.s.phase === "running") this.patch({ busy: "Going back one step" });
    return this.serialize(async () => {
      const entries = this.log.slice(0, -1);
      const view = { url: this.s.selectedUrl, db: this.s.selectedDatabase };
      await this.discard();
      await this.replay(entries, "Going back one step");
      this.select(view.url);
      if (view.db) this.selectDatabase(view.db);
    });
  }

  /**
   * shareText is what a link carries (after `#rk=`): the scenario, the log, and the view. Open it
   * in another browser and the playground replays the log on fresh servers.
   */
  shareText(): string {
    return encodeShared({
      v: 1,
      s: this.scenario.id,
      log: this.log,
      url: this.s.selectedUrl,
      db: this.s.selectedDatabase,
    });
  }

  /** shareLink makes the whole link from the page's address and notes it next to Share. */
  shareLink(pageUrl: string): string {
    const link = `${pageUrl.replace(/#.*$/, "")}#${shareParam}=${this.shareText()}`;
    this.note(
      this.log.length === 0
        ? "A link to the section's start (nothing done yet)."
        : `A link that replays your ${this.log.length} action${this.log.length === 1 ? "" : "s"}: anyone who opens it gets this state on fresh servers.`,
      false,
      "share",
    );
    return link;
  }

  /** replay starts the section afresh and does each entry again, waiting for what it promised. */
  private async replay(entries: readonly LogEntry[], why: string): Promise<void> {
    this.log = [];
    this.state.set({
      ...initialState(this.scenario, this.options.runtime, this.s.speed),
      busy: why,
    });
    await this.fresh();
    const cluster = this.requireRunning();
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[k]!;
      this.patch({ busy: `${why}: ${k + 1} of ${entries.length}` });
      let ok = true;
      if (entry.t === "step") ok = await this.takeStep(cluster);
      else if (entry.t === "skip") ok = this.skipNow();
      else ok = await this.replayAction(cluster, entry);
      if (!ok) {
        const failed = this.s.message?.error ? ` (${this.s.message.text})` : "";
        this.note(
          `Stopped after ${k} of ${entries.length} actions: the next one could not be done again${failed}.`,
          true,
          "step",
        );
        break;
      }
      this.record(entry);
    }
    this.patch({ busy: null });
    await this.refresh();
    this.persist();
  }

  private async replayAction(
    cluster: ClusterHandle,
    entry: Extract<LogEntry, { t: "do" }>,
  ): Promise<boolean> {
    const context = this.actionContext(cluster);
    this.addAction(`${entry.label} (again)`);
    try {
      await runAction(context, entry.a);
      this.killedUrl = context.killedUrl;
      await this.settleAfter(cluster, entry.a);
      return true;
    } catch (error) {
      this.note(`“${entry.label}”: ${messageOf(error)}`, true, "step");
      return false;
    }
  }

  /**
   * settleAfter waits until an action's effect is there before the next one runs, as the reader
   * did (they saw B join before adding it to a group); a replay is faster than a reader.
   */
  private async settleAfter(cluster: ClusterHandle, action: Action): Promise<void> {
    const timeoutMs = this.options.stepTimeoutMs ?? 60_000;
    const record = (name: string) => cluster.describe().databases.find((db) => db.name === name);
    switch (action.kind) {
      case "create-database":
        return cluster.waitFor(
          () => (record(action.name)?.members.length ?? 0) >= (action.replicationFactor ?? 1),
          { timeoutMs, what: `${action.name} to be created` },
        );
      case "add-node":
        return cluster.waitFor(
          () => cluster.servers.some((s) => s.url === action.url && s.tag !== "?"),
          { timeoutMs, what: `${action.url} to join` },
        );
      case "add-database-node":
        return cluster.waitFor(
          () => record(action.database)?.members.includes(action.tag) ?? false,
          { timeoutMs, what: `node ${action.tag} to become a member of ${action.database}` },
        );
      case "restart": {
        const url = resolveServer({ cluster, killedUrl: this.killedUrl }, action.url);
        return cluster.waitFor(() => cluster.servers.some((s) => s.url === url && s.alive), {
          timeoutMs,
          what: `${url} to run`,
        });
      }
      default:
        return;
    }
  }

  /** reconcileNext notes what of the next step the reader already did by hand (on every refresh). */
  private reconcileNext(cluster: ClusterHandle): void {
    const { step } = this.s;
    const next = this.scenario.steps[step.done];
    if (!next || this.s.busy) return;
    const check = checkStep(this.checkContext(cluster), next);
    const alreadyDone = check.done;
    if (
      alreadyDone.length === step.alreadyDone.length &&
      alreadyDone.every((why, i) => why === step.alreadyDone[i])
    )
      return;
    this.patch({ step: { ...step, alreadyDone } });
  }

  private actionContext(cluster: ClusterHandle): ActionContext {
    const session = this;
    return {
      cluster,
      killedUrl: this.killedUrl,
      waitMs: this.options.stepTimeoutMs ?? 60_000,
      select: (url) => this.patch({ selectedUrl: url, openDocument: null }),
      selectDatabase: (name) =>
        this.patch({ selectedDatabase: name, openDocument: null, documents: null }),
      partition: (a, b) => session.applyCut({ a, b }),
      heal: () => session.applyHeal(),
      slowLink: (a, b, fraction) => session.applySlowLink({ a, b, electionFraction: fraction }),
      ...(this.clientActions() ? { clients: this.clientActions()! } : {}),
    };
  }

  // --- the reader's actions ------------------------------------------------------------------------

  private requireRunning(): ClusterHandle {
    if (!this.cluster || this.s.phase !== "running")
      throw new Error("The cluster is not running: press Resume first.");
    return this.cluster;
  }

  /** acting is the handle reader actions go through: a recording one on exercise pages. */
  private acting(cluster: ClusterHandle): ClusterHandle {
    return this.options.hooks?.acting?.() ?? cluster;
  }

  /**
   * act runs one reader action: busy while it runs, its outcome shown next to the control that
   * asked (`area`), state saved. Resolves true when the action succeeded, so a form can keep what
   * was typed when it did not.
   */
  private act(
    label: string,
    area: ResultArea,
    work: (cluster: ClusterHandle) => Promise<string>,
    logged?: () => Action,
  ): Promise<boolean> {
    if (this.s.phase === "running") this.patch({ busy: label });
    let ok = false;
    return this.serialize(async () => {
      const cluster = this.requireRunning();
      this.addAction(label);
      this.patch({ busy: label, message: null });
      try {
        this.note(await work(this.acting(cluster)), false, area);
        ok = true;
        // Only what worked is logged: Back one step and links replay it.
        if (logged) this.record({ t: "do", a: logged(), label });
      } catch (error) {
        this.note(messageOf(error), true, area);
      } finally {
        this.patch({ busy: null });
      }
      await this.refresh();
      this.persist();
      this.options.hooks?.acted?.();
    }).then(() => ok);
  }

  /** refuse shows why an action was not even sent, next to its control. */
  private refuse(text: string, area: ResultArea): Promise<boolean> {
    this.note(text, true, area);
    return Promise.resolve(false);
  }

  private async request(url: string, request: ServerRequest, timeoutMs = 20_000): Promise<unknown> {
    const response = await this.acting(this.requireRunning()).network.request(url, request, {
      timeoutMs,
    });
    if (!response.ok) throw new ActionFailed(outcome(response));
    return response.result;
  }

  select(url: string): void {
    if (url === this.s.selectedUrl) return;
    this.patch({ selectedUrl: url, openDocument: null, documents: null, statuses: {} });
    this.persist();
    void this.refresh();
  }

  selectDatabase(name: string): void {
    this.patch({ selectedDatabase: name, openDocument: null, documents: null });
    this.persist();
    void this.refresh();
  }

  /** addNode asks the selected server to add a server to the cluster (Manage server → Cluster). */
  addNode(text: string): Promise<boolean> {
    const parsed = normalizeServerUrl(text);
    if (!parsed.ok) return this.refuse(parsed.error, "add-node");
    const on = this.s.selectedUrl;
    return this.act(
      `Add node ${parsed.url} (on ${on})`,
      "add-node",
      async (cluster) => {
        if (!cluster.urls.includes(parsed.url)) {
          throw new ActionFailed(
            `No server runs at ${parsed.url}. Start one first with “Start a new server”.`,
          );
        }
        await this.request(on, { type: "add-node", url: parsed.url }, 30_000);
        return `Asked ${on} to add ${parsed.url}; it joins once the leader commits it.`;
      },
      () => ({ kind: "add-node", on, url: parsed.url }),
    );
  }

  /** startServer starts one more fresh server (the chapter's `start ./Server/Raven.Server.exe`). */
  startServer(): Promise<boolean> {
    return this.act(
      "Start a new server",
      "add-node",
      async (cluster) =>
        `Started ${await cluster.addServer()}; it shows ? until it is added to the cluster.`,
      () => ({ kind: "start-server" }),
    );
  }

  kill(url: string): Promise<boolean> {
    return this.act(
      `Kill ${this.nameOf(url)}`,
      "servers",
      async (cluster) => {
        await cluster.kill(url);
        this.killedUrl = url;
        return `${this.nameOf(url)} was killed; its worker is gone and its data waits in storage.`;
      },
      () => ({ kind: "kill", url }),
    );
  }

  restart(url: string): Promise<boolean> {
    return this.act(
      `Restart ${this.nameOf(url)}`,
      "servers",
      async (cluster) => {
        await cluster.restart(url);
        return `${this.nameOf(url)} restarted from its storage.`;
      },
      () => ({ kind: "restart", url }),
    );
  }

  /** cut partitions the network between `group` and every other server. */
  cut(group: readonly string[]): Promise<boolean> {
    let rest: string[] = [];
    return this.act(
      "Cut the network",
      "network",
      async (cluster) => {
        rest = cluster.urls.filter((url) => !group.includes(url));
        if (group.length === 0 || rest.length === 0)
          throw new ActionFailed(
            "Choose some servers, but not all: the cut runs between the chosen ones and the rest.",
          );
        this.applyCut({ a: [...group], b: rest }, cluster);
        return `Cut the network between ${group.map((u) => this.nameOf(u)).join(", ")} and the rest.`;
      },
      () => ({ kind: "partition", a: [...group], b: rest }),
    );
  }

  heal(): Promise<boolean> {
    return this.act(
      "Heal the network",
      "network",
      async (cluster) => {
        this.applyHeal(cluster);
        return "The network is whole again.";
      },
      () => ({ kind: "heal" }),
    );
  }

  private applyCut(cut: NetworkCut, via: ClusterHandle | null = this.cluster): void {
    via?.partition(cut.a, cut.b);
    this.patch({ cuts: [...this.s.cuts, cut] });
  }

  /**
   * applySlowLink delays one link in the worker runtime (its ports hold each message), kept below
   * the shortest election timeout at the current speed so Rachis does not lose its leader.
   */
  private applySlowLink(link: SlowLink): string {
    if (!this.slowLinks.some((l) => l.a === link.a && l.b === link.b)) this.slowLinks.push(link);
    const shaped = this.cluster as
      | (ClusterHandle & { setLink?: (a: string, b: string, shape: { latencyMs: number }) => void })
      | null;
    if (!shaped?.setLink) return "this runtime cannot slow one link";
    const latencyMs = Math.round((electionTimeoutMaxMs(this.s.speed) / 2) * link.electionFraction);
    shaped.setLink(link.a, link.b, { latencyMs });
    return `slowed the link between ${link.a} and ${link.b} to ${latencyMs} ms each way`;
  }

  private applyHeal(via: ClusterHandle | null = this.cluster): void {
    via?.heal();
    this.patch({ cuts: [] });
  }

  createDatabase(name: string, replicationFactor: number): Promise<boolean> {
    const on = this.s.selectedUrl;
    return this.act(
      `New database ${name} (factor ${replicationFactor}) on ${this.nameOf(on)}`,
      "new-database",
      async () => {
        if (name.trim() === "") throw new ActionFailed("Give the database a name.");
        const result = (await this.request(
          on,
          { type: "create-database", name: name.trim(), replicationFactor },
          30_000,
        )) as { nodes?: string[] };
        this.patch({ selectedDatabase: name.trim(), openDocument: null, documents: null });
        return `Created ${name.trim()}${result.nodes ? ` on ${result.nodes.join(", ")}` : ""}.`;
      },
      () => ({ kind: "create-database", on, name: name.trim(), replicationFactor }),
    );
  }

  addNodeToGroup(database: string, tag: string): Promise<boolean> {
    const on = this.s.selectedUrl;
    return this.act(
      `Add node ${tag} to ${database}'s group`,
      "databases",
      async () => {
        await this.request(on, { type: "add-database-node", database, tag }, 30_000);
        return `Node ${tag} joins ${database}'s group; it is promotable until it has caught up.`;
      },
      () => ({ kind: "add-database-node", on, database, tag }),
    );
  }

  /**
   * openDocument opens a document of the list, then reads its revisions from the same server
   * (get-revisions), as that server's Studio would show them.
   */
  openDocument(id: string): void {
    const database = this.s.selectedDatabase;
    const document = this.s.documents?.find((doc) => doc.id === id);
    if (!database || !document) return;
    const text = JSON.stringify(document.body, null, 2);
    this.patch({ openDocument: { database, id, text, isNew: false, revisions: null } });
    const url = this.s.selectedUrl;
    void this.readFrom(url, { type: "get-revisions", database, id }).then((result) =>
      this.patchOpen(database, id, {
        revisions:
          typeof result === "string"
            ? `Its revisions could not be read from ${this.nameOf(url)}: ${result}`
            : (result as RevisionView[]),
      }),
    );
  }

  /** openAttachment reads one attachment of the open document, with its content, from the selected server. */
  async openAttachment(name: string): Promise<void> {
    const open = this.s.openDocument;
    if (!open || open.isNew) return;
    const url = this.s.selectedUrl;
    const request: ServerRequest = {
      type: "get-attachment",
      database: open.database,
      id: open.id,
      name,
    };
    const result = await this.readFrom(url, request);
    this.patchOpen(open.database, open.id, {
      attachment:
        typeof result === "string"
          ? `${name} could not be read from ${this.nameOf(url)}: ${result}`
          : result === null
            ? `${this.nameOf(url)} has no attachment ${name} on ${open.id}.`
            : (result as AttachmentView),
    });
  }

  /** readFrom sends a read to one server: its result, or a sentence saying why there is none. */
  private async readFrom(url: string, request: ServerRequest): Promise<unknown> {
    const cluster = this.handle;
    if (!cluster) return "the playground is not running";
    try {
      const response = await cluster.network.request(url, request, { timeoutMs: 5_000 });
      return response.ok ? response.result : outcome(response);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** patchOpen changes the open document, if the reader has not opened another one meanwhile. */
  private patchOpen(database: string, id: string, change: Partial<OpenDocument>): void {
    const open = this.s.openDocument;
    if (open?.database !== database || open.id !== id || open.isNew) return;
    this.patch({ openDocument: { ...open, ...change } });
  }

  newDocument(): void {
    const database = this.s.selectedDatabase;
    if (!database) return;
    this.patch({ openDocument: { database, id: "", text: '{\n  "name": ""\n}', isNew: true } });
  }

  closeDocument(): void {
    this.patch({ openDocument: null });
  }

  /** saveDocument writes the document to the selected server (a put in one transaction). */
  saveDocument(id: string, text: string): Promise<boolean> {
    const database = this.s.selectedDatabase;
    const on = this.s.selectedUrl;
    const idProblem = validateDocumentId(id);
    const parsed = parseDocumentText(text);
    if (!database || idProblem || !parsed.ok)
      return this.refuse(
        idProblem ?? (parsed.ok ? "Choose a database first." : parsed.error),
        "documents",
      );
    return this.act(
      `Save ${id.trim()} to ${database} on ${this.nameOf(on)}`,
      "documents",
      async () => {
        await this.request(on, {
          type: "batch",
          database,
          transaction: { puts: [{ id: id.trim(), body: parsed.body as never }] },
        });
        this.patch({ openDocument: { database, id: id.trim(), text, isNew: false } });
        return `Saved ${id.trim()} on ${this.nameOf(on)}.`;
      },
      () => ({ kind: "put", on, database, documents: [{ id: id.trim(), body: parsed.body }] }),
    );
  }

  deleteDocument(id: string): Promise<boolean> {
    const database = this.s.selectedDatabase;
    const on = this.s.selectedUrl;
    if (!database) return Promise.resolve(false);
    return this.act(
      `Delete ${id} from ${database} on ${this.nameOf(on)}`,
      "documents",
      async () => {
        await this.request(on, { type: "batch", database, transaction: { deletes: [{ id }] } });
        this.patch({ openDocument: null });
        return `Deleted ${id} on ${this.nameOf(on)}; the deletion replicates as a tombstone.`;
      },
      () => ({ kind: "delete", on, database, id }),
    );
  }

  // --- exercise pages: more of the Studio, and a client ------------------------------------------

  /** readTopology asks the selected server for the cluster topology (Manage server → Cluster, as that server sees it). */
  readTopology(): Promise<boolean> {
    const on = this.s.selectedUrl;
    return this.act(`Read the cluster topology on ${this.nameOf(on)}`, "servers", async () => {
      const topology = (await this.request(on, { type: "cluster-topology" }, 10_000)) as {
        members?: Record<string, string>;
        leader?: string | null;
      };
      const members = Object.keys(topology.members ?? {});
      return `${this.nameOf(on)} lists ${members.length === 1 ? "one member" : `${members.length} members`}: ${members.join(", ") || "none"}; leader: ${topology.leader ?? "none"}.`;
    });
  }

  /** setConflictResolution sets a database's conflict resolution (a cluster-wide operation, sent to the selected server). */
  setConflictResolution(database: string, resolution: "latest" | "none"): Promise<boolean> {
    const on = this.s.selectedUrl;
    return this.act(
      `Conflict resolution of ${database}: ${resolution}`,
      "databases",
      async () => {
        await this.request(on, { type: "set-conflict-resolution", database, resolution }, 30_000);
        return resolution === "none"
          ? `${database} keeps conflicts now: a read of a conflicted document reports it until you write it again.`
          : `${database} resolves conflicts to the latest version now.`;
      },
      () => ({ kind: "set-conflict-resolution", on, database, resolution }),
    );
  }

  // --- the chapter pages' clients ----------------------------------------------------------------

  /** saveThrough saves a document through one of the page's clients (optionally write-assured). */
  saveThrough(client: number, id: string, text: string, replicas: number): Promise<boolean> {
    const idProblem = validateDocumentId(id);
    const parsed = parseDocumentText(text);
    if (idProblem || !parsed.ok)
      return this.refuse(idProblem ?? (parsed.ok ? "" : parsed.error), "client");
    const action: Action = {
      kind: "client-save",
      client,
      id: id.trim(),
      body: parsed.body,
      ...(replicas > 0 ? { replicas } : {}),
    };
    return this.clientAct(
      `Client ${client + 1}: save ${id.trim()}${replicas > 0 ? `, waiting for ${replicas} replica${replicas === 1 ? "" : "s"}` : ""}`,
      action,
    );
  }

  /** loadThrough reads a document through one of the page's clients. */
  loadThrough(client: number, id: string): Promise<boolean> {
    const idProblem = validateDocumentId(id);
    if (idProblem) return this.refuse(idProblem, "client");
    return this.clientAct(`Client ${client + 1}: load ${id.trim()}`, {
      kind: "client-load",
      client,
      id: id.trim(),
    });
  }

  setReadBalance(client: number, mode: ReadBalance): Promise<boolean> {
    return this.clientAct(`Client ${client + 1}: read balance ${mode}`, {
      kind: "client-read-balance",
      client,
      mode,
    });
  }

  /** cutClientOff cuts a client off from exactly these servers (none: it reaches them all). */
  cutClientOff(client: number, urls: readonly string[]): Promise<boolean> {
    const names = urls.map((url) => this.nameOf(url)).join(", ");
    return this.clientAct(
      urls.length === 0
        ? `Client ${client + 1}: reach every server`
        : `Client ${client + 1}: cut off from ${names}`,
      { kind: "client-cut", client, urls: [...urls] },
    );
  }

  private clientAct(label: string, action: Action): Promise<boolean> {
    return this.act(
      label,
      "client",
      async (cluster) => capitalize(await runAction(this.actionContext(cluster), action)),
      // A load changes nothing a replay needs.
      action.kind === "client-load" ? undefined : () => action,
    );
  }

  /** client is the page's DocumentStore (exercise pages), null elsewhere. */
  get client(): DocumentStore | null {
    return this.options.hooks?.store?.() ?? null;
  }

  /** clientSave saves one document through the page's DocumentStore (it picks the node and fails over on its own). */
  clientSave(id: string, text: string, writeAssurance: boolean): Promise<boolean> {
    const store = this.options.hooks?.store?.() ?? null;
    const idProblem = validateDocumentId(id);
    const parsed = parseDocumentText(text);
    if (!store || idProblem || !parsed.ok)
      return this.refuse(
        !store
          ? "There is no client on this page."
          : (idProblem ?? (parsed.ok ? "" : parsed.error)),
        "client",
      );
    const label = `Client: save ${id.trim()} to ${store.database ?? "?"}${writeAssurance ? ", waiting for 1 replica" : ""}`;
    return this.act(label, "client", async () => {
      const session = store.openSession();
      session.store({ ...parsed.body }, id.trim());
      if (writeAssurance)
        session.advanced.waitForReplicationAfterSaveChanges({
          replicas: 1,
          timeout: Math.round(1_000 / this.s.speed),
        });
      try {
        await session.saveChanges();
      } catch (error) {
        throw new ActionFailed(
          `The client's save of ${id.trim()} raised ${codeAndMessage(error)}${session.advanced.lastServedBy ? ` (node ${session.advanced.lastServedBy} answered)` : ""}.`,
        );
      }
      return `The client saved ${id.trim()} on node ${session.advanced.lastServedBy ?? "?"}.`;
    });
  }

  /** clientLoad loads one document through the page's DocumentStore and shows it. */
  clientLoad(id: string): Promise<boolean> {
    const store = this.options.hooks?.store?.() ?? null;
    const idProblem = validateDocumentId(id);
    if (!store || idProblem)
      return this.refuse(!store ? "There is no client on this page." : (idProblem ?? ""), "client");
    return this.act(
      `Client: load ${id.trim()} from ${store.database ?? "?"}`,
      "client",
      async () => {
        const session = store.openSession();
        let loaded: unknown;
        try {
          loaded = await session.load(id.trim());
        } catch (error) {
          throw new ActionFailed(
            `The client's load of ${id.trim()} raised ${codeAndMessage(error)}${session.advanced.lastServedBy ? ` (node ${session.advanced.lastServedBy} answered)` : ""}.`,
          );
        }
        const from = session.advanced.lastServedBy ?? "?";
        return loaded === null || loaded === undefined
          ? `Node ${from} has no ${id.trim()}.`
          : `The client loaded ${id.trim()} from node ${from}: ${JSON.stringify(loaded)}`;
      },
    );
  }

  private nameOf(url: string): string {
    const server = this.s.servers.find((s) => s.url === url);
    return server ? serverName(server) : url;
  }

  // --- observing the cluster -----------------------------------------------------------------------

  private onTrace(events: readonly TraceEvent[]): void {
    const entries = timelineEntries(events, this.originMs, this.nextEntryId);
    this.nextEntryId += entries.length + events.length;
    const flows: Flow[] = [];
    const lags: Lag[] = [];
    const raft: RaftMessageView[] = [];
    for (const event of events) {
      if (event.type === "replication-applied") {
        // A batch whose every document the receiver already had (an echo) moved nothing.
        if (event.note || event.items.every((item) => item.outcome === "already-had")) continue;
        flows.push(
          this.flowOf(
            event,
            false,
            event.items.map((item) => item.id),
          ),
        );
        if (event.lagMs !== undefined)
          lags.push({ ...pick(event), lagMs: event.lagMs, atMs: event.atMs });
      } else if (event.type === "message-dropped") {
        if (event.kind === "replication" && event.what === "batch" && event.database)
          flows.push(
            this.flowOf(
              { ...event, database: event.database },
              true,
              event.ids ?? [],
              event.reason,
            ),
          );
        else if (event.kind === "raft" && this.watchingRachis)
          raft.push(raftOf(event, this.nextFlowId++));
      } else if (event.type === "raft-message" && this.watchingRachis) {
        raft.push(raftOf(event, this.nextFlowId++));
      }
    }
    const change: { -readonly [K in keyof PlaygroundState]?: PlaygroundState[K] } = {};
    if (entries.length > 0) change.timeline = appendTimeline(this.s.timeline, entries);
    if (flows.length > 0) change.flows = [...this.liveFlows(), ...flows].slice(-40);
    if (lags.length > 0) change.lags = [...this.s.lags, ...lags].slice(-lagsMax);
    if (raft.length > 0)
      change.raftMessages = [...this.s.raftMessages, ...raft].slice(-raftMessagesMax);
    if (Object.keys(change).length > 0) this.patch(change);
  }

  private flowOf(
    event: { database: string; from: string; to: string; atMs: number },
    failed: boolean,
    ids: readonly string[],
    reason?: string,
  ): Flow {
    const what = ids.length > 0 ? ids.join(", ") : "a batch";
    return {
      id: this.nextFlowId++,
      database: event.database,
      from: event.from,
      to: event.to,
      atMs: event.atMs,
      failed,
      text: failed
        ? `${event.from}→${event.to} ${what}: not delivered (${reason ?? "lost"})`
        : `${event.from}→${event.to} ${what}: applied on ${event.to}`,
    };
  }

  /** liveFlows are the batches whose dot is still on its way (cluster clock). */
  private liveFlows(): Flow[] {
    const now = this.clusterNowMs();
    const trip = flowTripMs(this.s.speed);
    return this.s.flows.filter((flow) => now - flow.atMs < trip * 1.25);
  }

  private addAction(text: string): void {
    const atMs = this.cluster ? Math.max(0, this.cluster.nowMs() - this.originMs) : 0;
    const entry: TimelineEntry = {
      id: this.nextEntryId++,
      atMs,
      category: "action",
      where: "you",
      text,
    };
    this.patch({ timeline: appendTimeline(this.s.timeline, [entry]) });
  }

  private note(text: string, error: boolean, area: ResultArea): void {
    this.patch({ message: { text, error, area } });
  }

  /**
   * refresh reads the cluster into the state: servers and groups from describe(), and from the
   * selected server — like its Studio — each database's status and the selected one's documents.
   * Asked while a read is in flight (the periodic one, say, waiting on a server that was just
   * killed), it reads again once that one ends: an action that awaits refresh() then shows what
   * the cluster is after the action, not a read that started before it.
   */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.readCluster().finally(() => {
        this.refreshing = null;
      });
      return this.refreshing;
    }
    const again = () => {
      this.refreshQueued = null;
      return this.refresh();
    };
    this.refreshQueued ??= this.refreshing.then(again, again);
    return this.refreshQueued;
  }

  private async readCluster(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    // A paused cluster holds every request until it resumes: nothing new to read meanwhile.
    if (this.s.phase === "paused" || this.s.phase === "pausing") return;
    const description = cluster.describe();
    const servers = cluster.servers;
    this.patch({
      servers,
      description,
      flows: this.liveFlows(),
      rachis: cluster.rachis?.() ?? [],
    });
    const selectedUrl = this.s.selectedUrl;
    const selected = servers.find((s) => s.url === selectedUrl);
    const names = description.databases.map((db) => db.name);
    const statuses: Record<string, DatabaseStatus> = {};
    if (!selected?.alive) {
      for (const name of names) statuses[name] = "server down";
    } else {
      await Promise.all(
        names.map(async (name) => {
          const response = await cluster.network.request(
            selectedUrl,
            { type: "database-status", database: name },
            { timeoutMs: 1_500 },
          );
          if (response.ok) statuses[name] = (response.result as { status: DatabaseStatus }).status;
          else if (response.error.code === "DatabaseDoesNotExist") statuses[name] = "unknown here";
          // A request that timed out says nothing new: keep what the server said last.
          else statuses[name] = this.s.statuses[name] ?? "unknown here";
        }),
      );
    }
    let selectedDatabase = this.s.selectedDatabase;
    if ((!selectedDatabase || !names.includes(selectedDatabase)) && names.length > 0)
      selectedDatabase = names[0]!;
    let documents: DocumentView[] | null = null;
    if (selectedDatabase && statuses[selectedDatabase] === "Online") {
      const response = await cluster.network.request(
        selectedUrl,
        { type: "list-documents", database: selectedDatabase },
        { timeoutMs: 1_500 },
      );
      if (response.ok) documents = response.result as DocumentView[];
    }
    if (this.cluster === cluster && this.s.selectedUrl === selectedUrl)
      this.patch({ statuses, selectedDatabase, documents });
    if (this.cluster === cluster && this.s.phase === "running") this.reconcileNext(cluster);
  }

  private snapshot(): SavedPlayground {
    const servers = this.cluster?.servers ?? this.s.servers;
    return {
      version: 1,
      clusterName: this.clusterName,
      servers: servers.length,
      down: servers.filter((s) => !s.alive).map((s) => s.url),
      cuts: this.s.cuts,
      selectedUrl: this.s.selectedUrl,
      selectedDatabase: this.s.selectedDatabase,
      stepsDone: this.s.step.done,
      killedUrl: this.killedUrl,
      slowLinks: this.slowLinks,
      originMs: this.originMs,
      timeline: this.s.timeline,
      log: this.log,
    };
  }

  /** persist saves the playground for the next page load (worker runtime: the data is durable). */
  private persist(): void {
    // A half-built section is never saved: the next visit deletes it and starts the section again.
    if (this.options.runtime !== "worker" || !this.cluster || !this.clusterName || !this.ready)
      return;
    savePlayground(this.options.store, this.scenario.id, this.snapshot());
  }
}

function pick(event: { database: string; from: string; to: string }) {
  return { database: event.database, from: event.from, to: event.to };
}

/** raftOf is a Raft message sent, or (from a message-dropped event) one the network lost. */
function raftOf(
  event: Extract<TraceEvent, { type: "raft-message" | "message-dropped" }>,
  id: number,
): RaftMessageView {
  if (event.type === "raft-message") {
    const { type: _type, ...message } = event;
    return { ...message, id };
  }
  return {
    id,
    atMs: event.atMs,
    from: event.from,
    to: event.to,
    kind: event.what,
    term: 0,
    entries: 0,
    dropped: event.reason,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeAndMessage(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? `${code}: ${messageOf(error)}` : messageOf(error);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
