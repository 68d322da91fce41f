/**
 * What an exercise page needs besides the exercise module: which exercises the playground can
 * check (and, for checks whose control is not obvious, what to press), the scenario the page's
 * playground starts from, the checklist as the page shows it, and what the page remembers in
 * localStorage (the recorded run, the solved mark). Pure functions and data; no engine, no DOM.
 */
import type { ClusterHandle } from "../engine/index.ts";
import type { CheckLine } from "../exercises/runner.ts";
import type { RunRecord } from "../exercises/types.ts";
import type { KeyValueStore } from "./persistence.ts";
import type { Scenario } from "./scenarios.ts";

/** ExerciseInfo is the serializable part of an exercise: what the page renders before any code loads. */
export interface ExerciseInfo {
  readonly id: string;
  /** Its number in `npm run exercise -- list` (from 1). */
  readonly number: number;
  readonly title: string;
  readonly section: string;
  readonly goal: string;
  readonly hints: readonly string[];
  readonly steps: readonly string[];
  readonly checks: readonly { readonly id: string; readonly description: string }[];
  readonly servers: number;
  readonly database: string;
  readonly replicationLimits?: { readonly batchItemsMax?: number };
}

/** exerciseInfo copies the plain fields of an exercise module (the book's pages pass it to the island). */
export function exerciseInfo(
  exercise: {
    readonly id: string;
    readonly title: string;
    readonly section: string;
    readonly goal: string;
    readonly hints: readonly string[];
    readonly checks: readonly { readonly id: string; readonly description: string }[];
    readonly solution: { readonly steps: readonly string[] };
    readonly start: {
      readonly servers: number;
      readonly database?: string;
      readonly replicationLimits?: { readonly batchItemsMax?: number };
    };
  },
  number: number,
): ExerciseInfo {
  const limits = exercise.start.replicationLimits?.batchItemsMax;
  return {
    id: exercise.id,
    number,
    title: exercise.title,
    section: exercise.section,
    goal: exercise.goal,
    hints: [...exercise.hints],
    steps: [...exercise.solution.steps],
    checks: exercise.checks.map((check) => ({ id: check.id, description: check.description })),
    servers: exercise.start.servers,
    database: exercise.start.database ?? "Spade",
    ...(limits !== undefined ? { replicationLimits: { batchItemsMax: limits } } : {}),
  };
}

/**
 * ExerciseSupport says how the page checks an exercise. "playground": every check can tick from
 * what the reader does in the playground; `how` names the control for checks where it is not
 * obvious. "cli": the playground cannot produce what the checks need, so the page says why and
 * shows the command; its checklist never ticks.
 */
export interface ExerciseSupport {
  readonly where: "playground" | "cli";
  readonly why?: string;
  readonly how?: Readonly<Record<string, string>>;
}

const client = "the Client panel";

export const exerciseSupport: Readonly<Record<string, ExerciseSupport>> = {
  bootstrap: {
    where: "playground",
    how: {
      spade: "New database on 127.0.0.1, named Spade.",
      "read-from-c":
        "Open the Studio on 127.0.0.3 (the tabs) and press Read the cluster topology, once C has joined.",
    },
  },
  "grow-group": {
    where: "playground",
    how: { "b-in-group": "Manage group of Spade → Add node to group, with B chosen." },
  },
  "leaderless-writes": {
    where: "playground",
    how: {
      "cluster-op-refused":
        "With A down, open the Studio on B and create any database: New database → Create.",
      "write-without-leader": `Save users/3 while there is no leader: New document in the Documents panel on B, or through ${client}.`,
    },
  },
  failover: {
    where: "playground",
    how: {
      "preferred-killed": `Save a document through ${client} first (it learns the topology), then Kill the node it names as preferred.`,
      "failed-over": `After the kill, save again through ${client}.`,
      "no-error": `Only saves and loads through ${client} count; none of them may fail.`,
    },
  },
  "write-assurance": {
    where: "playground",
    how: {
      "assurance-failed": `Kill A, then save through ${client} with “Wait for 1 replica” checked.`,
      "sibling-killed":
        "Use Kill on the other node: a node cut off by the network is still running, and does not count.",
      "reached-everyone": "Restart the node you killed and wait for replication.",
    },
  },
  "partial-transaction": {
    where: "cli",
    why:
      "The half-applied state on B lasts about one replication round trip, and Listings 6.3 and 6.4 are transactions over two " +
      "documents each; the playground's buttons cannot send those transactions or read B fast enough to catch it, and a " +
      "checklist that ticked anyway would be lying. Write the solution as code and check it with the CLI. (The playground of " +
      "the Transaction atomicity chapter shows the same $190 with a slowed link.)",
  },
  conflicts: {
    where: "playground",
    how: {
      "concurrent-users-2":
        "Cut off A (Network: check A, Cut off the checked), then save users/2 in the Documents panel on A, and a little later on B.",
      "resolved-to-latest": "Heal the network (Network: Heal) and wait a moment.",
      "conflict-kept": `Manage group of Spade → Conflict resolution: none. Cut off A again, save users/1 on A and on B, heal, then load users/1 through ${client}.`,
      "resolved-by-hand":
        "Save a new users/1 in the Documents panel; both nodes must end up with it.",
    },
  },
  pitchfork: {
    where: "playground",
    how: {
      created: "New database named Pitchfork with a replication factor of your choice.",
      proven: `For each pair of Pitchfork's nodes: Kill both, save a document to Pitchfork (through ${client}, or in the Documents panel on a live Pitchfork node), Restart both.`,
    },
  },
  supervisor: {
    where: "playground",
    how: {
      "write-while-away": `While A is down, save a document to Hoe: Documents panel on B, or through ${client}.`,
    },
  },
  majority: {
    where: "playground",
    how: {
      predicted:
        'Before killing anything, save predictions/majority in Spade (New document) as JSON: { "createDatabase": "ok" or "fail", "addDatabaseNode": …, "write": …, "read": … }.',
      "verify-createDatabase":
        "With three servers down, open the Studio on a live server and create a database.",
      "verify-addDatabaseNode":
        "With three servers down, Manage group of Spade → Add node to group.",
      "verify-write":
        "With three servers down, save a document to Spade (Documents panel on C, or through the Client panel).",
      "verify-read": `With three servers down, load a document through ${client}.`,
    },
  },
  partition: {
    where: "playground",
    how: {
      predicted:
        'Before cutting anything, save predictions/partition in Spade (New document) as JSON: { "createViaA": "ok" or "fail", "createViaC": …, "writeOnA": …, "writeOnC": … }.',
      "given-partition": "Network: check A and B, then Cut off the checked servers.",
      "verify-createViaA": "With the network cut, open the Studio on A and create a database.",
      "verify-createViaC": "With the network cut, open the Studio on C and create a database.",
      "verify-writeOnA":
        "With the network cut, save a document to Spade in the Documents panel on A.",
      "verify-writeOnC":
        "With the network cut, save a document to Spade in the Documents panel on C.",
      healed: "Heal the network and wait for one leader.",
    },
  },
};

/** supportOf is an exercise's support, "cli" for one the page does not know (never a fake tick). */
export function supportOf(id: string): ExerciseSupport {
  return (
    exerciseSupport[id] ?? { where: "cli", why: "This exercise has no playground support yet." }
  );
}

/** cliCommand is the command that checks a solution of exercise `number`. */
export function cliCommand(number: number, file = "my-solution.ts"): string {
  return `npm run exercise -- check ${number} --solution ${file}`;
}

/** exerciseScenario is the playground's scenario for an exercise: its servers, no walkthrough. */
export function exerciseScenario(info: ExerciseInfo): Scenario {
  return {
    id: `exercise-${info.id}`,
    title: info.title,
    servers: info.servers,
    setup: [],
    intro: info.goal,
    steps: [],
    database: info.database,
    ...(info.replicationLimits ? { replicationLimits: info.replicationLimits } : {}),
  };
}

/** ChecklistRow is one line as the page shows it. */
export interface ChecklistRow {
  readonly id: string;
  readonly description: string;
  /** done: the reader's run satisfies it; open: not yet; cli: only the CLI checks it. */
  readonly state: "done" | "open" | "cli";
  /** The checker's words about the reader's run (empty before the first check). */
  readonly detail: string;
  /** What to do in the playground for it, when the page knows. */
  readonly how?: string;
}

/** checklist combines the exercise's checks, the latest verdict (null before one) and the support. */
export function checklist(
  info: Pick<ExerciseInfo, "checks">,
  lines: readonly CheckLine[] | null,
  support: ExerciseSupport,
): ChecklistRow[] {
  return info.checks.map((check) => {
    const how = support.how?.[check.id];
    const base = {
      id: check.id,
      description: check.description,
      ...(how !== undefined ? { how } : {}),
    };
    if (support.where === "cli") return { ...base, state: "cli", detail: "" };
    const line = lines?.find((l) => l.id === check.id);
    return { ...base, state: line?.ok ? "done" : "open", detail: line?.detail ?? "" };
  });
}

/** solvedNow: every check holds, from the playground (a CLI-only exercise is never solved here). */
export function solvedNow(
  lines: readonly CheckLine[] | null,
  support: ExerciseSupport,
  checks: number,
): boolean {
  return (
    support.where === "playground" &&
    lines !== null &&
    lines.length === checks &&
    lines.every((line) => line.ok)
  );
}

// --- what the page remembers ------------------------------------------------------------------------

export const solvedKey = (id: string): string => `rookery-exercise:${id}:solved`;
export const recordKey = (id: string): string => `rookery-exercise:${id}:record`;

/** SolvedMark is when the reader first solved an exercise. */
export interface SolvedMark {
  readonly atIso: string;
}

export function loadSolved(store: KeyValueStore | null, id: string): SolvedMark | null {
  const text = safely(() => store?.getItem(solvedKey(id)) ?? null);
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<SolvedMark> | null;
    return value && typeof value.atIso === "string" ? { atIso: value.atIso } : null;
  } catch {
    return null;
  }
}

export function markSolved(store: KeyValueStore | null, id: string, at: Date): SolvedMark {
  const mark = { atIso: at.toISOString() };
  safely(() => store?.setItem(solvedKey(id), JSON.stringify(mark)));
  return mark;
}

export function forgetSolved(store: KeyValueStore | null, id: string): void {
  safely(() => store?.removeItem(solvedKey(id)));
}

/** The recorded part of a run a page keeps: everything but the final state and the probes, which it reads again. */
export type RecordedHistory = Pick<
  RunRecord,
  "traces" | "clientEvents" | "requests" | "operations" | "actions" | "solutionStartedAtMs"
>;

/** SavedRecord binds a recorded history to the playground cluster it was recorded on. */
export interface SavedRecord {
  readonly version: 1;
  readonly clusterName: string;
  readonly history: RecordedHistory;
}

export function saveRecord(
  store: KeyValueStore | null,
  id: string,
  clusterName: string,
  record: RecordedHistory,
): boolean {
  const saved: SavedRecord = {
    version: 1,
    clusterName,
    history: {
      traces: record.traces,
      clientEvents: record.clientEvents,
      requests: record.requests,
      operations: record.operations,
      actions: record.actions,
      solutionStartedAtMs: record.solutionStartedAtMs,
    },
  };
  return (
    safely(() => {
      store?.setItem(recordKey(id), JSON.stringify(saved));
      return true;
    }) ?? false
  );
}

export function loadRecord(store: KeyValueStore | null, id: string): SavedRecord | null {
  const text = safely(() => store?.getItem(recordKey(id)) ?? null);
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<SavedRecord> | null;
    const history = value?.history as Partial<RecordedHistory> | undefined;
    const lists = ["traces", "clientEvents", "requests", "operations", "actions"] as const;
    if (
      !value ||
      value.version !== 1 ||
      typeof value.clusterName !== "string" ||
      !history ||
      typeof history.solutionStartedAtMs !== "number" ||
      !lists.every((key) => Array.isArray(history[key]))
    )
      return null;
    return value as SavedRecord;
  } catch {
    return null;
  }
}

export function forgetRecord(store: KeyValueStore | null, id: string): void {
  safely(() => store?.removeItem(recordKey(id)));
}

/**
 * slowedDown makes a handle whose waits and pauses last `factor` times longer: an exercise's
 * setup is written for engine speed, and the playground may run in slow motion.
 */
export function slowedDown(handle: ClusterHandle, factor: number): ClusterHandle {
  if (factor === 1) return handle;
  const slowed: ClusterHandle = {
    get urls() {
      return handle.urls;
    },
    get servers() {
      return handle.servers;
    },
    get network() {
      return handle.network;
    },
    addServer: () => handle.addServer(),
    kill: (target) => handle.kill(target),
    restart: (target) => handle.restart(target),
    partition: (a, b) => handle.partition(a, b),
    isolate: (target) => handle.isolate(target),
    heal: () => handle.heal(),
    waitFor: (condition, options = {}) =>
      handle.waitFor(() => condition(slowed), {
        ...options,
        timeoutMs: (options.timeoutMs ?? 10_000) * factor,
      }),
    runFor: (durationMs) => handle.runFor(durationMs * factor),
    nowMs: () => handle.nowMs(),
    describe: () => handle.describe(),
    on: (event, listener) => handle.on(event, listener),
    stop: () => handle.stop(),
  };
  return slowed;
}

function safely<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch {
    return undefined;
  }
}
