/**
 * ExerciseSession runs one exercise page: a PlaygroundSession whose cluster starts from the
 * exercise's starting state, a recorder (exercises/recorder.ts, the same one the CLI uses) that
 * records the reader's actions through the playground, the page's client (the DocumentStore the
 * exercise hands a solution), and the exercise module's own checks over that RunRecord,
 * re-evaluated after every action and every batch of trace events. It keeps the recorded run and
 * the solved mark in localStorage, so both survive a reload.
 */
import type {
  ClientNetwork,
  ClusterHandle,
  DocumentStore,
  ServerResponse,
  TraceEvent,
} from "../engine/index.ts";
import type { CheckLine } from "../exercises/runner.ts";
import type { Recorder } from "../exercises/recorder.ts";
import type { Exercise } from "../exercises/types.ts";
import { Atom } from "./atom.ts";
import {
  checklist,
  exerciseScenario,
  forgetRecord,
  loadRecord,
  loadSolved,
  markSolved,
  saveRecord,
  slowedDown,
  solvedNow,
  supportOf,
} from "./exercise-support.ts";
import type {
  ChecklistRow,
  ExerciseInfo,
  ExerciseSupport,
  SolvedMark,
} from "./exercise-support.ts";
import { forgetPlayground, loadPlayground, notePending } from "./persistence.ts";
import type { KeyValueStore } from "./persistence.ts";
import { PlaygroundSession } from "./session.ts";
import type { StartCluster } from "./session.ts";

/** ExerciseState is what the exercise panel shows. */
export interface ExerciseState {
  readonly rows: readonly ChecklistRow[];
  /** The checks have run at least once on this run. */
  readonly checked: boolean;
  readonly solved: SolvedMark | null;
  /** Every check holds right now (the solved mark stays once earned). */
  readonly allHoldNow: boolean;
  readonly hintsShown: number;
  readonly solutionShown: boolean;
  /** Something the reader should know about the checklist (history lost after a reload …). */
  readonly note: string | null;
}

export interface ExerciseSessionOptions {
  readonly info: ExerciseInfo;
  readonly runtime: "sim" | "worker";
  readonly store: KeyValueStore | null;
  readonly startCluster?: StartCluster;
  readonly refreshMs?: number;
  readonly driveSimClock?: boolean;
  readonly stepTimeoutMs?: number;
  /** How long after an action or a trace batch the checks run again (ms of page time). */
  readonly checkDelayMs?: number;
  /** The page clock (for the solved mark's date). */
  readonly now?: () => Date;
}

/** The exercise modules load with the engine, on first use, like the playground's engine. */
const loadExerciseModules = () =>
  Promise.all([import("../exercises/index.ts"), import("../engine/index.ts")]);
type Modules = Awaited<ReturnType<typeof loadExerciseModules>>;

const paused = {
  ok: false,
  error: { code: "ServerUnavailable", message: "the playground's servers are paused" },
} as ServerResponse;

/**
 * LiveCluster is a ClusterHandle that outlives the playground's clusters: pausing, a change of
 * speed and a reload start new ones, and the recorder and the client keep talking to whichever
 * runs now. Trace listeners stay subscribed across the changes.
 */
export class LiveCluster implements ClusterHandle {
  private current: ClusterHandle | null = null;
  private detach: (() => void) | null = null;
  private readonly listeners = new Set<(events: readonly TraceEvent[]) => void>();
  readonly network: ClientNetwork = {
    request: (url, request, options) => {
      const cluster = this.current;
      if (!cluster) return Promise.resolve(paused);
      return cluster.network.request(url, request, options);
    },
    nowMs: () => this.nowMs(),
  };

  attach(cluster: ClusterHandle | null): void {
    this.detach?.();
    this.detach = null;
    this.current = cluster;
    if (cluster)
      this.detach = cluster.on("trace", (events) => {
        for (const listener of [...this.listeners]) listener(events);
      });
  }

  get running(): boolean {
    return this.current !== null;
  }

  private need(): ClusterHandle {
    if (!this.current) throw new Error("the playground's servers are paused");
    return this.current;
  }

  get urls(): string[] {
    return this.current?.urls ?? [];
  }
  get servers() {
    return this.current?.servers ?? [];
  }
  addServer(): Promise<string> {
    return this.need().addServer();
  }
  kill(target: string): Promise<void> {
    return this.need().kill(target);
  }
  restart(target: string): Promise<void> {
    return this.need().restart(target);
  }
  partition(a: readonly string[], b: readonly string[]): void {
    this.need().partition(a, b);
  }
  isolate(target: string): void {
    this.need().isolate(target);
  }
  heal(): void {
    this.need().heal();
  }
  waitFor(
    condition: (cluster: ClusterHandle) => boolean,
    options?: { readonly timeoutMs?: number; readonly what?: string },
  ): Promise<void> {
    return this.need().waitFor(() => condition(this), options);
  }
  runFor(durationMs: number): Promise<void> {
    return this.need().runFor(durationMs);
  }
  nowMs(): number {
    return this.current?.nowMs() ?? Date.now();
  }
  describe() {
    return this.need().describe();
  }
  on(_event: "trace", listener: (events: readonly TraceEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** The page's session stops its clusters; a solution's or the recorder's stop() ends nothing. */
  async stop(): Promise<void> {}
}

export class ExerciseSession {
  readonly info: ExerciseInfo;
  readonly support: ExerciseSupport;
  readonly session: PlaygroundSession;
  readonly state: Atom<ExerciseState>;
  private readonly options: ExerciseSessionOptions;
  private readonly live = new LiveCluster();
  private modules: Modules | null = null;
  private exercise: Exercise | null = null;
  private recorder: Recorder | null = null;
  private client: DocumentStore | null = null;
  private lines: readonly CheckLine[] | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private checking = false;
  private again = false;
  private disposed = false;

  constructor(options: ExerciseSessionOptions) {
    this.options = options;
    this.info = options.info;
    this.support = supportOf(options.info.id);
    this.state = new Atom<ExerciseState>({
      rows: checklist(this.info, null, this.support),
      checked: false,
      solved: loadSolved(options.store, this.info.id),
      allHoldNow: false,
      hintsShown: 0,
      solutionShown: false,
      note: null,
    });
    this.session = new PlaygroundSession({
      scenario: exerciseScenario(this.info),
      runtime: options.runtime,
      store: options.store,
      ...(options.startCluster ? { startCluster: options.startCluster } : {}),
      ...(options.refreshMs !== undefined ? { refreshMs: options.refreshMs } : {}),
      ...(options.driveSimClock !== undefined ? { driveSimClock: options.driveSimClock } : {}),
      ...(options.stepTimeoutMs !== undefined ? { stepTimeoutMs: options.stepTimeoutMs } : {}),
      hooks: {
        attach: (cluster) => {
          this.live.attach(cluster);
          if (cluster) this.schedule();
        },
        acting: () => this.recorder?.handle ?? null,
        setup: (cluster) => this.setup(cluster),
        store: () => this.ensureClient(),
        acted: () => this.schedule(),
      },
    });
    this.live.on("trace", () => this.schedule());
  }

  private patch(change: Partial<ExerciseState>): void {
    this.state.update((state) => ({ ...state, ...change }));
  }

  /**
   * open loads the exercise module, picks up a run recorded before a reload (when it belongs to
   * the saved cluster), and opens the playground. A saved cluster whose recording is gone is
   * deleted: the page could not check what happened on it.
   */
  async open(): Promise<void> {
    const modules = await loadExerciseModules();
    this.modules = modules;
    this.exercise = modules[0].findExercise(this.info.id) ?? null;
    if (!this.exercise) {
      this.patch({ note: `There is no exercise “${this.info.id}”.` });
      return;
    }
    const scenarioId = exerciseScenario(this.info).id;
    if (this.options.runtime === "worker") {
      const saved = loadPlayground(this.options.store, scenarioId);
      const record = loadRecord(this.options.store, this.info.id);
      if (saved && record && record.clusterName === saved.clusterName) {
        this.newRecorder();
        this.recorder!.continueFrom(record.history);
        this.recorder!.phase = "solution";
      } else if (saved) {
        // The page cannot check a cluster whose history it has lost: the session deletes it and starts over.
        notePending(this.options.store, scenarioId, saved.clusterName);
        forgetPlayground(this.options.store, scenarioId);
        forgetRecord(this.options.store, this.info.id);
        this.patch({
          note: "The record of your last visit was lost, so the exercise starts again.",
        });
      }
    }
    if (this.disposed) return;
    await this.session.open();
  }

  /** The recorder of the run in progress, for tests. */
  get recording(): Recorder | null {
    return this.recorder;
  }

  /** The client the Client panel uses: the store the exercise hands a solution. */
  get store(): DocumentStore | null {
    return this.client;
  }

  private newRecorder(): void {
    const { Recorder } = this.modules![0];
    this.recorder?.dispose();
    this.recorder = new Recorder(this.live, this.info.id, 1);
    this.client = null;
  }

  /** ensureClient builds the page's DocumentStore once the servers are known (after a reload: on first use). */
  private ensureClient(): DocumentStore | null {
    if (this.client || !this.recorder || !this.modules || !this.live.running) return this.client;
    const { DocumentStore } = this.modules[1];
    const slow = 1 / this.session.state.get().speed;
    const store = new DocumentStore({
      urls: this.live.urls,
      database: this.info.database,
      network: this.recorder.network,
      conventions: { requestTimeoutMs: 2_000 * slow, maintenanceTimeoutMs: 10_000 * slow },
    });
    store.initialize();
    this.recorder.watchStore(store);
    this.client = store;
    return store;
  }

  /** setup builds the exercise's starting state on a fresh cluster, recorded as "setup", and starts the reader's part. */
  private async setup(_cluster: ClusterHandle): Promise<void> {
    if (!this.exercise || !this.modules) throw new Error("the exercise did not load");
    forgetRecord(this.options.store, this.info.id);
    this.lines = null;
    this.newRecorder();
    const recorder = this.recorder!;
    const store = this.ensureClient()!;
    const slow = 1 / this.session.state.get().speed;
    await this.exercise.start.setup?.(slowedDown(recorder.handle, slow), store);
    // The reader has no time limit; the checks look at what happens from here on.
    recorder.startSolution(Infinity, () => {});
    this.patch({
      rows: checklist(this.info, null, this.support),
      checked: false,
      allHoldNow: false,
      note: null,
    });
    this.schedule();
  }

  /** schedule runs the checks soon (many trace batches in a row cost one run). */
  private schedule(): void {
    if (this.disposed || this.support.where !== "playground") return;
    if (this.checking) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, this.options.checkDelayMs ?? 300);
  }

  /**
   * check runs the exercise's checks on the run so far: the recorded history, the cluster's
   * describe() now, and (for exercises that name documents) what every server holds now.
   */
  async check(): Promise<readonly CheckLine[] | null> {
    const recorder = this.recorder;
    const exercise = this.exercise;
    if (
      !recorder ||
      !exercise ||
      !this.modules ||
      recorder.phase !== "solution" ||
      !this.live.running
    )
      return this.lines;
    this.checking = true;
    try {
      const [{ evaluate, readProbes }] = this.modules;
      const record = recorder.record({ status: "completed" });
      const probes = exercise.probe ? await readProbes(this.live, exercise.probe) : [];
      if (this.recorder !== recorder) return this.lines;
      const lines = evaluate(exercise, { ...record, probes });
      this.lines = lines;
      const name = this.session.name;
      if (this.options.runtime === "worker" && name)
        saveRecord(this.options.store, this.info.id, name, record);
      const all = solvedNow(lines, this.support, this.info.checks.length);
      let solved = this.state.get().solved;
      if (all && !solved)
        solved = markSolved(
          this.options.store,
          this.info.id,
          (this.options.now ?? (() => new Date()))(),
        );
      this.patch({
        rows: checklist(this.info, lines, this.support),
        checked: true,
        allHoldNow: all,
        solved,
      });
      return lines;
    } catch {
      // The cluster went away mid-check (paused, reset): the next action or trace checks again.
      return this.lines;
    } finally {
      this.checking = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  /** showHint reveals the next hint. */
  showHint(): void {
    const shown = this.state.get().hintsShown;
    if (shown < this.info.hints.length) this.patch({ hintsShown: shown + 1 });
  }

  /** toggleSolution shows or hides the reference solution's steps (it never runs them). */
  toggleSolution(): void {
    this.patch({ solutionShown: !this.state.get().solutionShown });
  }

  /** reset starts the exercise again: fresh servers, the starting state, an empty record (the solved mark stays). */
  async reset(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lines = null;
    this.patch({
      rows: checklist(this.info, null, this.support),
      checked: false,
      allHoldNow: false,
      hintsShown: 0,
      solutionShown: false,
      note: null,
    });
    await this.session.reset();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // The page is going away: keep what was recorded since the last check.
    const recorder = this.recorder;
    if (
      recorder &&
      recorder.phase === "solution" &&
      this.live.running &&
      this.options.runtime === "worker" &&
      this.session.name
    ) {
      try {
        saveRecord(
          this.options.store,
          this.info.id,
          this.session.name,
          recorder.record({ status: "completed" }),
        );
      } catch {
        // describe() can fail while the servers stop; the last check's record stays saved.
      }
    }
    await this.session.dispose();
    this.recorder?.dispose();
  }
}
