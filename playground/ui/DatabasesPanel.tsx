import { useState } from "preact/hooks";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { databaseRows } from "../view-model.ts";
import type { DatabaseRow } from "../view-model.ts";
import { domId, focusSoon } from "./focus.ts";
import { Result } from "./Result.tsx";

/** The databases list: each group per server, Online/Offline here, New database, Manage group. */
export function DatabasesPanel({
  state,
  session,
  id,
  extras = false,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
  extras?: boolean;
}) {
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState("");
  const [factor, setFactor] = useState("1");
  // Which group is being managed lives here, so a row that re-renders keeps its open panel.
  const [managing, setManaging] = useState<string | null>(null);
  const disabled = state.phase !== "running" || state.busy !== null;
  const rows = databaseRows(state.description, state.statuses);
  const selectedDown = state.servers.some(
    (server) => server.url === state.selectedUrl && !server.alive,
  );
  return (
    <section class="rk-panel" aria-labelledby={`${id}-databases`}>
      <h3 id={`${id}-databases`}>Databases</h3>
      {rows.length === 0 ? (
        <p class="rk-note">
          {selectedDown
            ? "This server is down: its Studio does not answer."
            : "No databases on this server's Studio."}
        </p>
      ) : null}
      <ul class="rk-databases">
        {rows.map((row) => (
          <DatabaseItem
            key={row.name}
            row={row}
            session={session}
            disabled={disabled}
            id={id}
            extras={extras}
            managing={managing === row.name}
            setManaging={(open) => setManaging(open ? row.name : null)}
          />
        ))}
      </ul>
      <Result state={state} area="databases" />
      <button
        type="button"
        id={`${id}-new-db-toggle`}
        aria-expanded={creating}
        aria-controls={`${id}-new-db`}
        onClick={() => {
          setCreating(!creating);
          if (!creating) focusSoon(`${id}-new-db-name`);
        }}
      >
        New database
      </button>
      {creating ? (
        <form
          id={`${id}-new-db`}
          class="rk-form"
          onSubmit={(event) => {
            event.preventDefault();
            const wanted = name.trim();
            void session.createDatabase(name, Number(factor) || 1).then((ok) => {
              // A failed create keeps the form and what was typed, and the cursor in the name.
              if (!ok) return focusSoon(`${id}-new-db-name`);
              setCreating(false);
              setName("");
              // The new database's row appears once this server reports it (a refresh after the
              // create, which may land a second later on a busy machine): its Manage group, or
              // New database again if it never shows.
              focusSoon(`${id}-manage-${domId(wanted)}-toggle`, {
                frames: 300,
                fallback: `${id}-new-db-toggle`,
              });
            });
          }}
        >
          <label>
            Name
            <input
              id={`${id}-new-db-name`}
              type="text"
              autoComplete="off"
              value={name}
              onInput={(event) => setName(event.currentTarget.value)}
            />
          </label>
          <label>
            Replication factor
            <input
              type="number"
              min={1}
              max={Math.max(1, state.servers.length)}
              value={factor}
              onInput={(event) => setFactor(event.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={disabled}>
            Create
          </button>
        </form>
      ) : null}
      <Result state={state} area="new-database" />
    </section>
  );
}

interface DatabaseItemProps {
  row: DatabaseRow;
  session: PlaygroundSession;
  disabled: boolean;
  id: string;
  extras: boolean;
  managing: boolean;
  setManaging: (open: boolean) => void;
}

function DatabaseItem({
  row,
  session,
  disabled,
  id,
  extras,
  managing,
  setManaging,
}: DatabaseItemProps) {
  const [candidate, setCandidate] = useState("");
  const [resolution, setResolution] = useState<"latest" | "none">("none");
  const chosen = row.candidates.includes(candidate) ? candidate : (row.candidates[0] ?? "");
  const panelId = `${id}-manage-${domId(row.name)}`;
  return (
    <li class="rk-database">
      <div class="rk-database-head">
        <strong>{row.name}</strong>
        <span class={`rk-status rk-status-${row.status === "Online" ? "online" : "offline"}`}>
          {row.status}
        </span>
        <span class="rk-note">factor {row.replicationFactor}</span>
      </div>
      <ol class="rk-group" aria-label={`${row.name}'s group`}>
        {row.nodes.map((node) => (
          <li key={node.tag} class={`rk-chip rk-chip-${node.role}`}>
            {node.tag} {node.role}
            {node.preferred ? " · preferred" : ""}
          </li>
        ))}
      </ol>
      <button
        type="button"
        id={`${panelId}-toggle`}
        aria-expanded={managing}
        aria-controls={panelId}
        aria-label={`Manage group of ${row.name}`}
        onClick={() => setManaging(!managing)}
      >
        Manage group
      </button>
      {managing ? (
        <div id={panelId} class="rk-form">
          {row.candidates.length === 0 ? (
            <p class="rk-note">Every node of the cluster is already in {row.name}'s group.</p>
          ) : (
            <>
              <label for={`${panelId}-node`}>Node</label>
              <select
                id={`${panelId}-node`}
                value={chosen}
                onChange={(event) => setCandidate(event.currentTarget.value)}
              >
                {row.candidates.map((tag) => (
                  <option key={tag} value={tag}>
                    {tag}
                  </option>
                ))}
              </select>
              <button
                type="button"
                disabled={disabled || !chosen}
                onClick={() =>
                  void session.addNodeToGroup(row.name, chosen).then((ok) => {
                    if (ok) setManaging(false);
                    focusSoon(ok ? `${panelId}-toggle` : `${panelId}-node`);
                  })
                }
              >
                Add node to group
              </button>
            </>
          )}
          {extras ? (
            <p class="rk-inline">
              <label for={`${panelId}-resolution`}>Conflict resolution</label>
              <select
                id={`${panelId}-resolution`}
                value={resolution}
                onChange={(event) =>
                  setResolution(event.currentTarget.value === "latest" ? "latest" : "none")
                }
              >
                <option value="latest">latest</option>
                <option value="none">none</option>
              </select>
              <button
                type="button"
                disabled={disabled}
                onClick={() =>
                  void session.setConflictResolution(row.name, resolution).then((ok) => {
                    if (ok) setManaging(false);
                    focusSoon(ok ? `${panelId}-toggle` : `${panelId}-resolution`);
                  })
                }
              >
                Set conflict resolution
              </button>
            </p>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
