/**
 * A playground's action log: every Next step, Skip and reader action, as data. "Back one step"
 * replays all but the last entry on a fresh cluster, and a link can carry the log so that a
 * teacher can send a state (RaftScope's replay, Learn Git Branching's permalinks). The log holds
 * what the reader did, never what the cluster did: replaying it on new servers gives the same
 * servers, databases, documents and cuts, though elections may fall differently.
 */
import type { Action } from "./scenarios.ts";

/** LogEntry is one thing the reader did. */
export type LogEntry =
  /** Next step (the next one in order). */
  | { readonly t: "step" }
  /** Skip this step. */
  | { readonly t: "skip" }
  /** A reader action from the panels, with the words the timeline showed for it. */
  | { readonly t: "do"; readonly a: Action; readonly label: string };

/** SharedState is what a link carries: the scenario, its log, and what the reader was looking at. */
export interface SharedState {
  readonly v: 1;
  /** The scenario's id: a link to one chapter's state does not restore another's. */
  readonly s: string;
  readonly log: readonly LogEntry[];
  readonly url?: string;
  readonly db?: string | null;
}

/** Entries a log keeps at most (a link must stay a link, and replaying must stay short). */
export const logEntriesMax = 200;

/** The fragment parameter a link uses: …/first-cluster/#rk=<state>. */
export const shareParam = "rk";

/** encodeShared turns a state into the text after `#rk=` (base64url of its JSON, UTF-8 safe). */
export function encodeShared(state: SharedState): string {
  const bytes = new TextEncoder().encode(JSON.stringify(state));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * decodeShared reads the text after `#rk=`, or says what is wrong with it: a link cut short by a
 * mail client must not start a half replay.
 */
export function decodeShared(
  text: string,
):
  | { readonly ok: true; readonly state: SharedState }
  | { readonly ok: false; readonly error: string } {
  let value: unknown;
  try {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, error: "The link's playground state is damaged (was it cut short?)." };
  }
  const state = value as Partial<SharedState> | null;
  if (
    !state ||
    state.v !== 1 ||
    typeof state.s !== "string" ||
    !Array.isArray(state.log) ||
    state.log.length > logEntriesMax ||
    !state.log.every(isEntry)
  )
    return { ok: false, error: "The link's playground state is not one this book can replay." };
  return { ok: true, state: state as SharedState };
}

function isEntry(value: unknown): value is LogEntry {
  const entry = value as Partial<Record<string, unknown>> | null;
  if (!entry || typeof entry !== "object") return false;
  if (entry.t === "step" || entry.t === "skip") return true;
  return (
    entry.t === "do" &&
    typeof entry.label === "string" &&
    typeof entry.a === "object" &&
    entry.a !== null &&
    typeof (entry.a as { kind?: unknown }).kind === "string"
  );
}

/** sharedFromHash finds the shared state in a location hash ("#rk=…"), if there is one. */
export function sharedFromHash(hash: string): string | null {
  const match = new RegExp(`(?:^#|&)${shareParam}=([A-Za-z0-9_-]+)`).exec(hash);
  return match?.[1] ?? null;
}
