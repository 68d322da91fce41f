import { registerRenderer } from "../core/index.ts";
import type { Entry } from "./types.ts";

/** describeEntry renders one log entry as `index@term kind`. */
export function describeEntry(entry: Entry): string {
  switch (entry.type) {
    case "command":
      return `${entry.index}@${entry.term} ${entry.data.length > 24 ? entry.data.slice(0, 23) + "…" : entry.data}`;
    case "noop":
      return `${entry.index}@${entry.term} noop`;
    case "membership":
      return `${entry.index}@${entry.term} ${entry.change.op}${"node" in entry.change ? " " + entry.change.node : ""}`;
  }
}

function entriesRange(entries: readonly Entry[]): string {
  if (entries.length === 0) return "heartbeat";
  const first = entries[0]!;
  const last = entries[entries.length - 1]!;
  return entries.length === 1 ? `[${describeEntry(first)}]` : `[${first.index}..${last.index}]`;
}

type Fields = Readonly<Record<string, unknown>>;
const head = (m: Fields): string =>
  `${String(m.type)} ${String(m.from)}→${String(m.to)} t${String(m.term)}`;

registerRenderer(
  "preVote",
  (m) => `${head(m)} last=${String(m.lastLogIndex)}@${String(m.lastLogTerm)}`,
);
registerRenderer(
  "vote",
  (m) => `${head(m)} last=${String(m.lastLogIndex)}@${String(m.lastLogTerm)}`,
);
registerRenderer("preVoteResponse", (m) => `${head(m)} ${m.granted ? "granted" : "rejected"}`);
registerRenderer("voteResponse", (m) => `${head(m)} ${m.granted ? "granted" : "rejected"}`);
registerRenderer(
  "append",
  (m) =>
    `${head(m)} prev=${String(m.prevIndex)}@${String(m.prevTerm)} ${entriesRange(m.entries as Entry[])} commit=${String(m.commit)}`,
);
registerRenderer("appendResponse", (m) =>
  m.success
    ? `${head(m)} ok match=${String(m.matchIndex)}`
    : `${head(m)} reject ${String(m.rejectedIndex)} hint=${String(m.conflictIndex)}@${String(m.conflictTerm)}`,
);
registerRenderer("installSnapshot", (m) => {
  const snapshot = m.snapshot as { index: number; term: number };
  return `${head(m)} snapshot@${snapshot.index}/${snapshot.term}`;
});
