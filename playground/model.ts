/**
 * The playground's state: plain data a view renders and a test compares. The session fills it
 * from the cluster (describe(), trace events, requests to the selected server).
 */
import type {
  AttachmentView,
  ClusterDescription,
  DocumentView,
  RachisSnapshot,
  RevisionView,
  ServerSummary,
  TraceEvent,
} from "../engine/index.ts";
import type { ClientView } from "./clients.ts";

/** TimelineCategory groups timeline entries for the filter. */
export type TimelineCategory =
  | "election"
  | "cluster"
  | "topology"
  | "failover"
  | "replication"
  | "conflict"
  | "assurance"
  | "failed"
  | "server"
  | "action";

/** TimelineEntry is one line of the timeline. */
export interface TimelineEntry {
  readonly id: number;
  /** Milliseconds since the playground's cluster first started (cluster clock). */
  readonly atMs: number;
  readonly category: TimelineCategory;
  /** The server or servers it concerns, as tags or URLs ("A", "A→B"). */
  readonly where: string;
  readonly text: string;
  /**
   * Drawn dimmed: nothing changed (an echo its change vector stopped, a duplicate) or nothing
   * arrived (a send that failed).
   */
  readonly muted?: boolean;
  /** The same line again and again (a retry that keeps failing): how many times, shown once. */
  readonly repeats?: number;
}

/**
 * Flow is one replication batch for the replication graph: applied by its receiver (a dot that
 * travels from sender to receiver), or a send that failed (a dimmed dot that stops half way).
 */
export interface Flow {
  readonly id: number;
  readonly database: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  /** When the event happened, on the cluster's clock: the dot's trip starts then. */
  readonly atMs: number;
  readonly failed: boolean;
}

/** Lag is the last measured lag of one replication connection (claim 16: lag is visible). */
export interface Lag {
  readonly database: string;
  readonly from: string;
  readonly to: string;
  readonly lagMs: number;
  /** When it was measured, on the cluster's clock. */
  readonly atMs: number;
}

/** RaftMessageView is one Raft message on the Rachis panel: sent, or lost on the way (why). */
export type RaftMessageView = Omit<Extract<TraceEvent, { type: "raft-message" }>, "type"> & {
  readonly id: number;
  readonly dropped?: string;
};

/** NetworkCut is one partition the reader made: two groups of server URLs that cannot talk. */
export interface NetworkCut {
  readonly a: readonly string[];
  readonly b: readonly string[];
}

/** DatabaseStatus is what the selected server says about a database. */
export type DatabaseStatus = "Online" | "Offline" | "unknown here" | "server down";

/** OpenDocument is the document being viewed or edited (contents as text, never HTML). */
export interface OpenDocument {
  readonly database: string;
  readonly id: string;
  readonly text: string;
  readonly isNew: boolean;
  /**
   * Its revisions as the selected server stores them, oldest first: null while they load, a
   * sentence when they could not be read.
   */
  readonly revisions?: readonly RevisionView[] | string | null;
  /** The attachment the reader opened, with its content as that server holds it. */
  readonly attachment?: AttachmentView | string | null;
}

/** Prediction is a "predict, then see" question as the controls show it (see scenarios.ts). */
export interface Prediction {
  readonly question: string;
  readonly choices: readonly string[];
}

/** Reveal answers the prediction of the step just taken. */
export interface Reveal {
  readonly question: string;
  /** The reader's pick (an index into choices), or null when they ran the step without one. */
  readonly picked: number | null;
  readonly answer: number;
  readonly choices: readonly string[];
  readonly explain: string;
}

/** StepView is the scenario's progress as the Next step control shows it. */
export interface StepView {
  /** Steps already taken. */
  readonly done: number;
  readonly total: number;
  /** The title of the step just taken, or null before the first. */
  readonly lastTitle: string | null;
  /** The explanation of the step just taken (or the scenario's intro before the first). */
  readonly explanation: string;
  /** The title of the next step, or null once the walkthrough is over (free play). */
  readonly nextTitle: string | null;
  /**
   * What the reader already did by hand of the next step ("Spade already exists"), so Next step
   * only finishes it; empty when the step still has all its work to do.
   */
  readonly alreadyDone: readonly string[];
  /** The next step asks for a prediction before it runs. */
  readonly predict: Prediction | null;
  /** The reader's pick for the next step's prediction. */
  readonly picked: number | null;
  /** The answer to the prediction of the step just taken. */
  readonly reveal: Reveal | null;
  /** Why the last Next step could not finish; Skip this step moves past it. */
  readonly failed: string | null;
}

/**
 * ResultArea names the control a result belongs to, so the result (or error) appears next to it
 * instead of at the foot of the playground.
 */
export type ResultArea =
  | "step"
  | "clock"
  | "share"
  | "servers"
  | "add-node"
  | "network"
  | "databases"
  | "new-database"
  | "documents"
  | "client";

export type SessionPhase =
  "idle" | "starting" | "running" | "pausing" | "paused" | "stopped" | "failed";

/** PlaygroundState is everything a playground shows. */
export interface PlaygroundState {
  readonly phase: SessionPhase;
  /** Why the cluster is paused: by the reader, or because the playground scrolled away. */
  readonly pausedBy: "reader" | "scroll" | null;
  /** A long action (a step, Reset) is running; controls that would race it are disabled. */
  readonly busy: string | null;
  readonly servers: readonly ServerSummary[];
  readonly description: ClusterDescription | null;
  readonly selectedUrl: string;
  readonly statuses: Readonly<Record<string, DatabaseStatus>>;
  readonly selectedDatabase: string | null;
  /** Documents of the selected database on the selected server; null when it has none there. */
  readonly documents: readonly DocumentView[] | null;
  readonly openDocument: OpenDocument | null;
  readonly timeline: readonly TimelineEntry[];
  readonly flows: readonly Flow[];
  /** Each connection's last measured lag, newest last. */
  readonly lags: readonly Lag[];
  /** Each server's Rachis (server order; null when down or without a cluster). */
  readonly rachis: readonly (RachisSnapshot | null)[];
  /** Raft messages seen lately (while the Rachis panel is open), newest last. */
  readonly raftMessages: readonly RaftMessageView[];
  readonly cuts: readonly NetworkCut[];
  readonly step: StepView;
  readonly speed: number;
  /** The outcome of the reader's last action, shown (and announced) next to its control. */
  readonly message: {
    readonly text: string;
    readonly error: boolean;
    readonly area: ResultArea;
  } | null;
  readonly runtime: "sim" | "worker";
  /** What "Back one step" would undo (the last entry of the action log), or null at the start. */
  readonly undo: string | null;
  /** Entries in the action log (what a shared link replays). */
  readonly logged: number;
  /** The page's clients (chapter pages about clients), as the client panel shows them. */
  readonly clients: readonly ClientView[];
}
