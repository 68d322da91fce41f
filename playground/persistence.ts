/**
 * What a playground remembers across reloads, in localStorage: where its servers' data lives
 * (the IndexedDB name), which servers exist and which are down, the network cuts, what the reader
 * was looking at, and how far the walkthrough got. The servers' data itself stays in IndexedDB.
 */
import type { LogEntry } from "./action-log.ts";
import type { NetworkCut, TimelineEntry } from "./model.ts";

/** KeyValueStore is the part of localStorage the playground uses (tests pass a Map-backed one). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** SlowLink is a link a scenario slowed, as a fraction of the shortest election timeout. */
export interface SlowLink {
  readonly a: string;
  readonly b: string;
  readonly electionFraction: number;
}

export interface SavedPlayground {
  readonly version: 1;
  readonly clusterName: string;
  readonly servers: number;
  readonly down: readonly string[];
  readonly cuts: readonly NetworkCut[];
  readonly selectedUrl: string;
  readonly selectedDatabase: string | null;
  readonly stepsDone: number;
  readonly killedUrl: string | null;
  readonly slowLinks?: readonly SlowLink[];
  /** Epoch ms the cluster first started: timeline times count from it. */
  readonly originMs: number;
  readonly timeline: readonly TimelineEntry[];
  /** The action log, so Back one step and Share keep working after a reload. */
  readonly log?: readonly LogEntry[];
}

/** Timeline lines kept across a reload (localStorage is small and shared by the whole site). */
const savedTimelineMax = 150;

export const playgroundKey = (scenarioId: string): string => `rookery-playground:${scenarioId}`;
export const speedKey = "rookery-playground:speed";

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** loadPlayground reads a saved playground, or null when there is none or it is not ours. */
export function loadPlayground(
  store: KeyValueStore | null,
  scenarioId: string,
): SavedPlayground | null {
  const text = safely(() => store?.getItem(playgroundKey(scenarioId)) ?? null);
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const saved = value as Partial<SavedPlayground> | null;
  if (
    !saved ||
    saved.version !== 1 ||
    typeof saved.clusterName !== "string" ||
    typeof saved.servers !== "number" ||
    !isStringArray(saved.down) ||
    !Array.isArray(saved.cuts) ||
    typeof saved.selectedUrl !== "string" ||
    typeof saved.stepsDone !== "number" ||
    typeof saved.originMs !== "number" ||
    !Array.isArray(saved.timeline)
  ) {
    return null;
  }
  return saved as SavedPlayground;
}

export function savePlayground(
  store: KeyValueStore | null,
  scenarioId: string,
  saved: SavedPlayground,
): void {
  const trimmed = { ...saved, timeline: saved.timeline.slice(-savedTimelineMax) };
  safely(() => store?.setItem(playgroundKey(scenarioId), JSON.stringify(trimmed)));
}

export function forgetPlayground(store: KeyValueStore | null, scenarioId: string): void {
  safely(() => store?.removeItem(playgroundKey(scenarioId)));
}

export function loadSpeed(
  store: KeyValueStore | null,
  allowed: readonly number[],
  fallback: number,
): number {
  const value = Number(safely(() => store?.getItem(speedKey) ?? null));
  return allowed.includes(value) ? value : fallback;
}

export function saveSpeed(store: KeyValueStore | null, speed: number): void {
  safely(() => store?.setItem(speedKey, String(speed)));
}

/** Storage can throw (private mode, quota); the playground then simply forgets. */
function safely<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch {
    return undefined;
  }
}

/**
 * A cluster being set up is not saved yet; if the reader leaves meanwhile, its IndexedDB databases
 * would be orphaned. Its name is noted first, so the next visit can delete them.
 */
const pendingKey = (scenarioId: string): string => `rookery-playground:${scenarioId}:pending`;

export function notePending(
  store: KeyValueStore | null,
  scenarioId: string,
  clusterName: string | null,
): void {
  safely(() =>
    clusterName
      ? store?.setItem(pendingKey(scenarioId), clusterName)
      : store?.removeItem(pendingKey(scenarioId)),
  );
}

export function loadPending(store: KeyValueStore | null, scenarioId: string): string | null {
  return safely(() => store?.getItem(pendingKey(scenarioId)) ?? null) ?? null;
}
