import { useEffect, useState } from "preact/hooks";
import type { PlaygroundSession } from "../session.ts";
import type { PlaygroundState } from "../model.ts";
import { describeRaftMessage, rachisRows, timingForSpeed } from "../view-model.ts";
import { useClusterClock } from "./use-cluster-clock.ts";

/** Raft messages listed at once (newest first). */
const messagesShown = 14;

/**
 * Rachis up close, on the real engine: per server its role, term and vote, an election timer that
 * fills and resets, the tail of its log with each entry's term and the commit index, its snapshot,
 * and on the leader what each follower has; below, the Raft messages as they are sent (or lost).
 * Closed, it costs nothing: the servers trace their Raft messages only while it is open.
 */
export function RachisPanel({
  state,
  session,
  id,
  open,
  nowMs,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
  open: boolean;
  nowMs: () => number;
}) {
  // Open from the start (server-rendered open), the panel fires no toggle: ask for its feed here.
  const [shown, setShown] = useState(open);
  useEffect(() => {
    if (open) session.watchRachis(true);
  }, [session]);
  const now = useClusterClock(shown && state.phase === "running", nowMs);
  const rows = rachisRows(state.servers, state.rachis, now, timingForSpeed(state.speed).tickMs);
  const messages = state.raftMessages.slice(-messagesShown).reverse();
  return (
    <details
      class="rk-panel rk-rachis"
      open={open}
      onToggle={(event) => {
        const isOpen = (event.currentTarget as HTMLDetailsElement).open;
        setShown(isOpen);
        session.watchRachis(isOpen);
      }}
    >
      <summary id={`${id}-rachis`}>Rachis up close: terms, votes, logs and commit indexes</summary>
      <div class="rk-rachis-servers">
        {rows.map((row) => {
          const view = row.view;
          const name = row.tag === "?" ? row.url.replace(/^https?:\/\//, "") : `node ${row.tag}`;
          if (!view)
            return (
              <section key={row.url} class="rk-rachis-server" data-tag={row.tag} data-role="none">
                <h4>{name}</h4>
                <p class="rk-note">
                  {state.servers.find((s) => s.url === row.url)?.alive
                    ? "Not in a cluster yet: no Rachis to show."
                    : "Down."}
                </p>
              </section>
            );
          const progress = Object.entries(view.progress);
          return (
            <section
              key={row.url}
              class={`rk-rachis-server${view.role === "leader" ? " rk-rachis-leader" : ""}`}
              aria-label={`Rachis of ${name}`}
              data-tag={row.tag}
              data-role={view.role}
              data-term={view.term}
              data-commit={view.commit}
            >
              <h4>
                {name}: {view.role}
              </h4>
              <dl>
                <dt>term</dt>
                <dd>{view.term}</dd>
                <dt>voted for</dt>
                <dd>{view.vote ?? "nobody"}</dd>
                <dt>leader</dt>
                <dd>{view.leader ?? "none known"}</dd>
                <dt>commit index</dt>
                <dd class="rk-commit">{view.commit}</dd>
                <dt>applied</dt>
                <dd>{view.applied}</dd>
                <dt>last index</dt>
                <dd>{view.lastIndex}</dd>
                <dt>snapshot</dt>
                <dd>
                  {view.snapshotIndex > 0
                    ? `up to ${view.snapshotIndex} (term ${view.snapshotTerm})`
                    : "none"}
                </dd>
                <dt>voters</dt>
                <dd>
                  {view.voters.join(", ") || "—"}
                  {view.learners.length > 0 ? `; learners ${view.learners.join(", ")}` : ""}
                </dd>
              </dl>
              <label class="rk-note">
                {view.role === "leader"
                  ? "Quorum check"
                  : view.role === "follower"
                    ? "Election timer (a heartbeat resets it)"
                    : "Election timer"}
                <progress
                  class="rk-timer"
                  max={1}
                  value={row.timer}
                  aria-label={`Election timer of ${name}`}
                />
              </label>
              <ol class="rk-log" aria-label={`Log of ${name}, index and term`}>
                {view.entries.map((entry) => (
                  <li
                    key={entry.index}
                    class={entry.index > view.commit ? "rk-log-uncommitted" : ""}
                    title={entry.text}
                  >
                    {entry.index}·t{entry.term}
                  </li>
                ))}
              </ol>
              {view.entries.length > 0 ? (
                <p class="rk-note">
                  Last: {view.entries.at(-1)!.text}
                  {view.entries.at(-1)!.index > view.commit ? " (not committed yet)" : ""}
                </p>
              ) : null}
              {progress.length > 0 ? (
                <p class="rk-note">
                  Followers have: {progress.map(([tag, p]) => `${tag} up to ${p.match}`).join(", ")}
                </p>
              ) : null}
            </section>
          );
        })}
      </div>
      <h4 id={`${id}-raft-messages`}>Messages</h4>
      {shown && messages.length > 0 ? (
        <ol class="rk-raft-messages" aria-labelledby={`${id}-raft-messages`} tabIndex={0}>
          {messages.map((message) => (
            <li key={message.id} class={message.dropped ? "rk-event-muted" : ""}>
              {describeRaftMessage(message)}
            </li>
          ))}
        </ol>
      ) : (
        <p class="rk-note">
          Heartbeats, vote requests and their answers appear here as the servers send them.
        </p>
      )}
    </details>
  );
}
