/**
 * The shape of a classroom exercise. One module per exercise serves both the book (a live
 * playground whose recorder feeds the same checks) and Node (`npm run exercise`), so nothing here
 * or in an exercise module may import a Node-only API: exercises see the engine only through its
 * public entry (DESIGN.md §7), and checks are pure functions of a RunRecord.
 */
import type {
  ClientEvent,
  ClusterDescription,
  ClusterHandle,
  ClusterOptions,
  DocumentStore,
  TraceEvent,
} from "../engine/index.ts";

/** Phase says which part of a run produced a record: the exercise's setup, the solution, or the checker's final probes. */
export type Phase = "setup" | "solution" | "probe";

/** RecordedTrace is a cluster trace event and the phase it happened in. */
export type RecordedTrace = TraceEvent & { readonly phase: Phase };

/** RecordedClientEvent is an event of the store handed to the solution, and its phase. */
export type RecordedClientEvent = ClientEvent & { readonly phase: Phase };

/** RecordedPut is one document a batch request wrote (id and body). */
export interface RecordedPut {
  readonly id: string;
  readonly body: unknown;
}

/**
 * RequestRecord is one request that crossed the (recorded) client network and what came back:
 * every store built on `cluster.network`, and direct `cluster.network.request` calls, land here.
 */
export interface RequestRecord {
  readonly phase: Phase;
  readonly atMs: number;
  readonly doneAtMs: number;
  /** The client address that sent it (a store's `address`, "client" by default). */
  readonly from: string;
  readonly url: string;
  /** The tag of the server at `url` when the request was sent ("?" before it joined). */
  readonly tag: string;
  readonly type: string;
  readonly database?: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  /** For batches: the documents put and deleted, and whether write assurance was asked for. */
  readonly puts?: readonly RecordedPut[];
  readonly deletes?: readonly string[];
  readonly writeAssurance?: { readonly replicas?: number; readonly majority?: boolean };
  /** For get-documents: the ids asked for. */
  readonly ids?: readonly string[];
  /** For reads (topology, status, documents): the answer, copied. */
  readonly result?: unknown;
  /** For create-database and add-database-node: what was asked. */
  readonly name?: string;
  readonly replicationFactor?: number;
  readonly nodes?: readonly string[];
}

/** OperationRecord is one call on the store handed to the solution: a session's save or load, or a maintenance operation. */
export interface OperationRecord {
  readonly phase: Phase;
  readonly atMs: number;
  readonly doneAtMs: number;
  readonly kind: "saveChanges" | "load" | "maintenance";
  /** The maintenance method's name (createDatabase, addDatabaseNode, …), or the session call. */
  readonly name: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  /** Document ids saved or loaded. */
  readonly ids?: readonly string[];
  readonly writeAssurance?: boolean;
  /** The tag of the node that served the session's last request, if any. */
  readonly servedBy?: string;
}

/** ActionRecord is one thing the solution did to the cluster itself: a crash, a restart, a cut cable. */
export interface ActionRecord {
  readonly phase: Phase;
  readonly atMs: number;
  readonly kind: "addServer" | "kill" | "restart" | "partition" | "isolate" | "heal";
  /** The server's tag at the time (kill, restart, isolate, addServer's new URL), or both sides of a partition as tags. */
  readonly target?: string;
  readonly groups?: readonly (readonly string[])[];
}

/** ProbeRecord is what the checker read on one server after the run, for ids the exercise names. */
export interface ProbeRecord {
  readonly tag: string;
  readonly database: string;
  /** reachable false: the server is down or cut off from the checker. */
  readonly reachable: boolean;
  /** conflict: the server answered DocumentConflict for these ids. */
  readonly conflict: boolean;
  readonly documents: Readonly<Record<string, unknown>>;
}

/** RunOutcome says how the solution ended. */
export type RunOutcome =
  | { readonly status: "completed" }
  | { readonly status: "threw"; readonly message: string; readonly code?: string }
  | { readonly status: "timed-out"; readonly limit: "virtual" | "wall"; readonly message: string };

/**
 * RunRecord is everything a check may look at: the cluster's trace events, the client events of
 * the store, every request and its outcome, the store's operations, the solution's actions on
 * the cluster, the final describe() and the final probes. Plain data, structured-clone safe.
 */
export interface RunRecord {
  readonly exercise: string;
  readonly seed: number;
  /** Virtual ms at which the solution started (setup is over) and ended. */
  readonly solutionStartedAtMs: number;
  readonly solutionEndedAtMs: number;
  readonly traces: readonly RecordedTrace[];
  readonly clientEvents: readonly RecordedClientEvent[];
  readonly requests: readonly RequestRecord[];
  readonly operations: readonly OperationRecord[];
  readonly actions: readonly ActionRecord[];
  readonly probes: readonly ProbeRecord[];
  readonly final: ClusterDescription;
  readonly outcome: RunOutcome;
}

/** CheckResult is one line of the checklist: passed or not, and why, in words a student can act on. */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Check is one goal of an exercise: a pure predicate over a RunRecord. */
export interface Check {
  readonly id: string;
  readonly description: string;
  check(record: RunRecord): CheckResult;
}

/** Solution is what a student writes: `export default async (cluster, store) => { … }`. */
export type Solution = (cluster: ClusterHandle, store: DocumentStore) => Promise<void> | void;

/** ExerciseStart is the starting state: fresh servers, then the exercise's own setup. */
export interface ExerciseStart {
  readonly servers: number;
  readonly seed?: number;
  /** The database the store handed to the solution talks to (default "Spade"). */
  readonly database?: string;
  /** Replication limits, e.g. one item per batch to show Listing 6.4's caveat. */
  readonly replicationLimits?: ClusterOptions["replicationLimits"];
  /** Brings the cluster to the exercise's starting point; it runs before the solution, recorded as "setup". */
  readonly setup?: (cluster: ClusterHandle, store: DocumentStore) => Promise<void>;
}

/** ExerciseProbe names documents the checker reads on every server once the solution is done. */
export interface ExerciseProbe {
  readonly database: string;
  readonly ids: readonly string[];
  /**
   * Whose servers: the exercise's cluster (the default), or the second cluster its setup started
   * on the same network with cluster.startSibling (an external replication's destination).
   */
  readonly on?: "cluster" | "sibling";
}

/** Exercise is one classroom exercise: goal, hints, starting state, checks and a reference solution. */
export interface Exercise {
  /** A stable slug (the book keeps the solved mark under it). */
  readonly id: string;
  readonly title: string;
  /** What to do, in a paragraph; the chapter section it comes from. */
  readonly goal: string;
  readonly section: string;
  readonly hints: readonly string[];
  readonly start: ExerciseStart;
  readonly probe?: ExerciseProbe;
  readonly checks: readonly Check[];
  readonly solution: {
    /** Human-readable steps ("Show solution" shows them without running anything). */
    readonly steps: readonly string[];
    readonly run: Solution;
  };
  /** Limits on the solution: virtual ms of cluster time, and wall ms (defaults in runner.ts). */
  readonly limits?: { readonly virtualMs?: number; readonly wallMs?: number };
}
