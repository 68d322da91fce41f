/**
 * The recorder: what a run did, as plain data for the checks. It subscribes to the cluster's
 * traces, hands out a ClusterHandle whose network and actions are recorded, and wraps the store
 * given to the solution (its client events, sessions and maintenance calls). It uses only the
 * public API, so the book's playground can record a reader's clicks with the same code.
 */
import { isRookeryError, RookeryError } from "../engine/index.ts";
import type {
  ClientNetwork,
  ClusterHandle,
  DocumentSession,
  DocumentStore,
  ServerRequest,
  ServerResponse,
} from "../engine/index.ts";
import type {
  ActionRecord,
  ExerciseProbe,
  OperationRecord,
  Phase,
  ProbeRecord,
  RecordedClientEvent,
  RecordedTrace,
  RequestRecord,
  RunOutcome,
  RunRecord,
} from "./types.ts";

/** The maintenance calls recorded as operations (the store's own names). */
const maintenanceNames = [
  "addNodeToCluster",
  "removeNode",
  "createDatabase",
  "deleteDatabase",
  "addDatabaseNode",
  "setRevisions",
  "setConflictResolution",
  "getClusterTopology",
  "getDatabaseTopology",
  "updateExternalReplication",
  "deleteOngoingTask",
  "getOngoingTasks",
  "getOngoingTaskInfo",
] as const;

/** Request types whose answers a check may need to read (small, and only reads). */
const keptResults = new Set([
  "cluster-topology",
  "database-topology",
  "database-status",
  "get-documents",
  "create-database",
  "add-database-node",
  "add-node",
  "update-external-replication",
  "ongoing-tasks",
]);

/** TimeLimitError is what the solution's next call raises once its virtual time is used up. */
export const timeLimitCode = "TimeLimit";
/** RunOverCode is what any call raises after the run ended (a background loop cannot keep going). */
export const runOverCode = "RunOver";

function errorFields(error: unknown): { message: string; code?: string } {
  if (isRookeryError(error)) return { message: error.message, code: error.code };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}

/**
 * Recorder records one run on one cluster. Use `handle` and `network` instead of the cluster's
 * own; `watchStore` the store the solution gets; `record()` when done.
 */
export class Recorder {
  /** The phase that new records are filed under; the runner moves it from setup to solution to probe. */
  phase: Phase = "setup";
  readonly handle: ClusterHandle;
  readonly network: ClientNetwork;
  private readonly traces: RecordedTrace[] = [];
  private readonly clientEvents: RecordedClientEvent[] = [];
  private readonly requests: RequestRecord[] = [];
  private readonly operations: OperationRecord[] = [];
  private readonly actions: ActionRecord[] = [];
  private readonly probes: ProbeRecord[] = [];
  private readonly unsubscribes: (() => void)[] = [];
  /** Clusters started on this one's network (cluster.startSibling), in order. */
  private readonly siblings: ClusterHandle[] = [];
  private solutionStartedAtMs = 0;
  private solutionEndedAtMs = 0;
  private deadlineMs = Infinity;
  private sealed = false;
  private overrunListener: (() => void) | undefined;

  constructor(
    private readonly cluster: ClusterHandle,
    private readonly exercise: string,
    private readonly seed: number,
  ) {
    this.unsubscribes.push(
      cluster.on("trace", (events) => {
        for (const event of events) this.traces.push({ ...event, phase: this.phase });
      }),
    );
    this.network = {
      request: (url, request, options) => this.request(url, request, options),
      nowMs: () => cluster.nowMs(),
    };
    this.handle = this.wrap(cluster);
  }

  /** startSolution files what follows under "solution" and sets its virtual-time budget. */
  startSolution(virtualLimitMs: number, onOverrun: () => void): void {
    this.phase = "solution";
    this.solutionStartedAtMs = this.cluster.nowMs();
    this.deadlineMs = this.solutionStartedAtMs + virtualLimitMs;
    this.overrunListener = onOverrun;
  }

  /**
   * seal ends the solution: from now on every call on the handle, its network or the store raises
   * RunOver, so a loop the solution left running stops at its next await on the cluster.
   */
  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    this.solutionEndedAtMs = this.cluster.nowMs();
    this.phase = "probe";
  }

  /** watchStore records a store's client events, its sessions' saves and loads, and its maintenance calls. */
  watchStore(store: DocumentStore): void {
    this.unsubscribes.push(
      store.on("event", (event) => this.clientEvents.push({ ...event, phase: this.phase })),
    );
    const open = store.openSession.bind(store);
    store.openSession = () => this.wrapSession(open());
    const maintenance = store.maintenance as unknown as Record<
      string,
      (...args: unknown[]) => Promise<unknown>
    >;
    for (const name of maintenanceNames) {
      const original = maintenance[name];
      if (!original) continue;
      const bound = original.bind(store.maintenance);
      maintenance[name] = (...args: unknown[]) =>
        this.operation({ kind: "maintenance", name }, () => bound(...args));
    }
  }

  /** probe reads `spec.ids` on every running server straight from its instance, as the checker (after the run). */
  async probe(spec: ExerciseProbe): Promise<void> {
    const target = spec.on === "sibling" ? this.siblings[0] : this.cluster;
    if (target) this.probes.push(...(await readProbes(target, spec)));
  }

  /**
   * continueFrom carries on a run recorded earlier (the book's playground after a reload): its
   * records come first, and the solution's start time is kept. Call it before anything new happens.
   */
  continueFrom(
    previous: Pick<
      RunRecord,
      "traces" | "clientEvents" | "requests" | "operations" | "actions" | "solutionStartedAtMs"
    >,
  ): void {
    this.traces.unshift(...previous.traces);
    this.clientEvents.unshift(...previous.clientEvents);
    this.requests.unshift(...previous.requests);
    this.operations.unshift(...previous.operations);
    this.actions.unshift(...previous.actions);
    this.solutionStartedAtMs = previous.solutionStartedAtMs;
  }

  /** record returns the run so far as plain data (copies: later events do not change it). */
  record(outcome: RunOutcome): RunRecord {
    return structuredClone({
      exercise: this.exercise,
      seed: this.seed,
      solutionStartedAtMs: this.solutionStartedAtMs,
      solutionEndedAtMs: this.sealed ? this.solutionEndedAtMs : this.cluster.nowMs(),
      traces: this.traces,
      clientEvents: this.clientEvents,
      requests: this.requests,
      operations: this.operations,
      actions: this.actions,
      probes: this.probes,
      final: this.cluster.describe(),
      outcome,
    });
  }

  /** dispose stops listening to the cluster and the store. */
  dispose(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  // --- internals --------------------------------------------------------------------------------

  /** guard refuses calls after the run, and past the virtual-time budget. */
  private guard(what: string): void {
    if (this.sealed)
      throw new RookeryError(
        runOverCode,
        `${what} was called after the run ended; await everything your solution starts`,
      );
    if (this.cluster.nowMs() > this.deadlineMs) {
      this.overrun();
      throw this.limitError();
    }
  }

  private limitError(): RookeryError {
    const budget = this.deadlineMs - this.solutionStartedAtMs;
    return new RookeryError(
      timeLimitCode,
      `the solution used up its ${budget} virtual ms of cluster time`,
    );
  }

  private overrun(): void {
    const listener = this.overrunListener;
    this.overrunListener = undefined;
    listener?.();
  }

  private tagOf(tagOrUrl: string): string {
    return this.cluster.servers.find((s) => s.url === tagOrUrl)?.tag ?? tagOrUrl;
  }

  private act(
    kind: ActionRecord["kind"],
    fields: Partial<Pick<ActionRecord, "target" | "groups">>,
  ): void {
    this.actions.push({ phase: this.phase, atMs: this.cluster.nowMs(), kind, ...fields });
  }

  private wrap(cluster: ClusterHandle): ClusterHandle {
    const recorder = this;
    const handle: ClusterHandle = {
      get urls() {
        return cluster.urls;
      },
      get servers() {
        return cluster.servers;
      },
      network: this.network,
      async addServer() {
        recorder.guard("addServer");
        const url = await cluster.addServer();
        recorder.act("addServer", { target: url });
        return url;
      },
      async kill(tagOrUrl) {
        recorder.guard("kill");
        const target = recorder.tagOf(tagOrUrl);
        await cluster.kill(tagOrUrl);
        recorder.act("kill", { target });
      },
      async restart(tagOrUrl) {
        recorder.guard("restart");
        const target = recorder.tagOf(tagOrUrl);
        await cluster.restart(tagOrUrl);
        recorder.act("restart", { target });
      },
      partition(groupA, groupB) {
        recorder.guard("partition");
        cluster.partition(groupA, groupB);
        recorder.act("partition", {
          groups: [groupA.map((s) => recorder.tagOf(s)), groupB.map((s) => recorder.tagOf(s))],
        });
      },
      isolate(tagOrUrl) {
        recorder.guard("isolate");
        cluster.isolate(tagOrUrl);
        recorder.act("isolate", { target: recorder.tagOf(tagOrUrl) });
      },
      heal() {
        recorder.guard("heal");
        cluster.heal();
        recorder.act("heal", {});
      },
      async waitFor(condition, options = {}) {
        recorder.guard("waitFor");
        const asked = options.timeoutMs ?? 10_000;
        const left = Math.max(0, recorder.deadlineMs - cluster.nowMs());
        if (asked <= left) return cluster.waitFor(() => condition(handle), options);
        // The wait would outlast the budget: wait only as long as the budget allows.
        try {
          await cluster.waitFor(() => condition(handle), { ...options, timeoutMs: left });
        } catch (error) {
          if (!isRookeryError(error, "WaitTimedOut")) throw error;
          recorder.overrun();
          throw recorder.limitError();
        }
      },
      async runFor(durationMs) {
        recorder.guard("runFor");
        const left = Math.max(0, recorder.deadlineMs - cluster.nowMs());
        if (durationMs <= left) return cluster.runFor(durationMs);
        await cluster.runFor(left);
        recorder.overrun();
        throw recorder.limitError();
      },
      nowMs: () => cluster.nowMs(),
      describe: () => cluster.describe(),
      on(event, listener) {
        const unsubscribe = cluster.on(event, listener);
        recorder.unsubscribes.push(unsubscribe);
        return unsubscribe;
      },
      // A second cluster (an external replication's destination) is not recorded itself; what
      // crosses to it goes through this network, and probes may read its servers.
      ...(cluster.startSibling
        ? {
            async startSibling(options) {
              recorder.guard("startSibling");
              const sibling = await cluster.startSibling!(options);
              recorder.siblings.push(sibling);
              return sibling;
            },
          }
        : {}),
      // The checker still has to probe the servers, so a solution's stop() ends nothing; the
      // runner stops the cluster after the checks.
      async stop() {},
    };
    return handle;
  }

  private async request(
    url: string,
    request: ServerRequest,
    options?: { readonly timeoutMs?: number; readonly from?: string },
  ): Promise<ServerResponse> {
    this.guard(`a ${request.type} request`);
    const phase = this.phase;
    const atMs = this.cluster.nowMs();
    const tag = this.tagOf(url);
    const response = await this.cluster.network.request(url, request, options);
    const fields: Record<string, unknown> = {};
    if ("database" in request) fields["database"] = request.database;
    if (request.type === "batch") {
      fields["puts"] = (request.transaction.puts ?? []).map((put) => ({
        id: put.id,
        body: put.body,
      }));
      fields["deletes"] = (request.transaction.deletes ?? []).map((d) => d.id);
      if (request.writeAssurance)
        fields["writeAssurance"] = {
          replicas: request.writeAssurance.replicas,
          majority: request.writeAssurance.majority,
        };
    }
    if (request.type === "get-documents") fields["ids"] = [...request.ids];
    if (request.type === "create-database") {
      fields["name"] = request.name;
      if (request.replicationFactor !== undefined)
        fields["replicationFactor"] = request.replicationFactor;
      if (request.nodes !== undefined) fields["nodes"] = [...request.nodes];
    }
    if (request.type === "add-database-node" && request.tag !== undefined)
      fields["nodes"] = [request.tag];
    if (response.ok && keptResults.has(request.type)) fields["result"] = response.result;
    this.requests.push({
      phase,
      atMs,
      doneAtMs: this.cluster.nowMs(),
      from: options?.from ?? "client",
      url,
      tag,
      type: request.type,
      ok: response.ok,
      ...(response.ok ? {} : { code: response.error.code, message: response.error.message }),
      ...fields,
    });
    return response;
  }

  private async operation<T>(
    what: Pick<OperationRecord, "kind" | "name" | "ids" | "writeAssurance">,
    run: () => Promise<T>,
    servedBy?: () => string | undefined,
  ): Promise<T> {
    this.guard(what.name);
    const phase = this.phase;
    const atMs = this.cluster.nowMs();
    try {
      const result = await run();
      const served = servedBy?.();
      this.operations.push({
        phase,
        atMs,
        doneAtMs: this.cluster.nowMs(),
        ...what,
        ok: true,
        ...(served !== undefined ? { servedBy: served } : {}),
      });
      return result;
    } catch (error) {
      const served = servedBy?.();
      this.operations.push({
        phase,
        atMs,
        doneAtMs: this.cluster.nowMs(),
        ...what,
        ok: false,
        ...errorFields(error),
        ...(served !== undefined ? { servedBy: served } : {}),
      });
      throw error;
    }
  }

  private wrapSession(session: DocumentSession): DocumentSession {
    let assured = false;
    const waitFor = session.advanced.waitForReplicationAfterSaveChanges.bind(session.advanced);
    session.advanced.waitForReplicationAfterSaveChanges = (options) => {
      assured = true;
      waitFor(options);
    };
    const save = session.saveChanges.bind(session);
    session.saveChanges = () =>
      this.operation(
        { kind: "saveChanges", name: "saveChanges", writeAssurance: assured },
        save,
        () => session.advanced.lastServedBy,
      );
    const load = session.load.bind(session) as (
      ids: string | readonly string[],
    ) => Promise<unknown>;
    session.load = ((ids: string | readonly string[]) =>
      this.operation(
        { kind: "load", name: "load", ids: typeof ids === "string" ? [ids] : [...ids] },
        () => load(ids),
        () => session.advanced.lastServedBy,
      )) as DocumentSession["load"];
    return session;
  }
}

/**
 * readProbes reads `spec.ids` on every server straight from its instance, as the checker does
 * after a run (the book's playground probes again each time it checks): unreported requests.
 */
export async function readProbes(
  cluster: ClusterHandle,
  spec: ExerciseProbe,
): Promise<ProbeRecord[]> {
  const probes: ProbeRecord[] = [];
  for (const server of cluster.servers) {
    if (!server.alive) {
      probes.push({
        tag: server.tag,
        database: spec.database,
        reachable: false,
        conflict: false,
        documents: {},
      });
      continue;
    }
    const response = await cluster.network.request(
      server.url,
      { type: "get-documents", database: spec.database, ids: spec.ids },
      { timeoutMs: 1_000, from: "checker" },
    );
    if (response.ok) {
      const views = response.result as readonly ({
        readonly id: string;
        readonly body: unknown;
      } | null)[];
      const documents: Record<string, unknown> = {};
      spec.ids.forEach((id, i) => (documents[id] = views[i]?.body ?? null));
      probes.push({
        tag: server.tag,
        database: spec.database,
        reachable: true,
        conflict: false,
        documents,
      });
    } else {
      const conflict = response.error.code === "DocumentConflict";
      const reachable =
        conflict ||
        !["ServerUnavailable", "RequestTimeout", "NetworkError"].includes(response.error.code);
      probes.push({ tag: server.tag, database: spec.database, reachable, conflict, documents: {} });
    }
  }
  return probes;
}
