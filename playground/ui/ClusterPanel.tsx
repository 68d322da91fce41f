import { useState } from "preact/hooks";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { describeCuts, leaderLine, serverRows, shortUrl } from "../view-model.ts";
import { domId, focusSoon } from "./focus.ts";
import { Result } from "./Result.tsx";

/** Manage server → Cluster: every server, who leads, Add node, Kill/Restart, and network cuts. */
export function ClusterPanel({
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
  const [newUrl, setNewUrl] = useState("");
  const [group, setGroup] = useState<readonly string[]>([]);
  const disabled = state.phase !== "running" || state.busy !== null;
  const rows = serverRows(state.servers, state.selectedUrl);
  const nextFresh = `http://127.0.0.${state.servers.length + 1}:8080`;
  const killId = (url: string) => `${id}-kill-${domId(url)}`;
  const restartId = (url: string) => `${id}-restart-${domId(url)}`;
  const urlInputId = `${id}-new-url`;
  return (
    <section class="rk-panel" aria-labelledby={`${id}-cluster`}>
      <h3 id={`${id}-cluster`}>Cluster</h3>
      <p class="rk-note">{leaderLine(state.servers, state.selectedUrl)}</p>
      {extras ? (
        <p>
          <button
            type="button"
            id={`${id}-read-topology`}
            disabled={disabled}
            onClick={() => void session.readTopology().then(() => focusSoon(`${id}-read-topology`))}
          >
            Read the cluster topology
          </button>{" "}
          <span class="rk-note">asks the server you are on</span>
        </p>
      ) : null}
      <ul class="rk-servers">
        {rows.map((row) => (
          <li
            key={row.url}
            class={`rk-server${row.selected ? " rk-selected" : ""}${row.alive ? "" : " rk-down"}`}
          >
            <span
              class="rk-tag"
              title={row.tag === "?" ? "not in a cluster yet" : `node ${row.tag}`}
            >
              {row.tag}
            </span>
            <span class="rk-server-main">
              <span class="rk-url">{shortUrl(row.url)}</span>
              <span class="rk-role">
                {row.isLeader ? <strong class="rk-leader">★ leader</strong> : row.role}
                {row.alive && !row.isLeader && row.tag !== "?" ? ` of ${row.sees}` : ""}
                {row.tag !== "?" ? ` · term ${row.term}` : ""}
              </span>
            </span>
            {row.alive ? (
              <button
                type="button"
                id={killId(row.url)}
                disabled={disabled}
                aria-label={`Kill ${row.name}`}
                onClick={() =>
                  void session
                    .kill(row.url)
                    .then((ok) => focusSoon(ok ? restartId(row.url) : killId(row.url)))
                }
              >
                Kill
              </button>
            ) : (
              <button
                type="button"
                id={restartId(row.url)}
                disabled={disabled}
                aria-label={`Restart ${row.name}`}
                onClick={() =>
                  void session
                    .restart(row.url)
                    .then((ok) => focusSoon(ok ? killId(row.url) : restartId(row.url)))
                }
              >
                Restart
              </button>
            )}
          </li>
        ))}
      </ul>
      <Result state={state} area="servers" />
      <form
        class="rk-form rk-add-node"
        onSubmit={(event) => {
          event.preventDefault();
          void session.addNode(newUrl).then((ok) => {
            // A failed add keeps what was typed, so the reader can correct it.
            if (ok) setNewUrl("");
            focusSoon(urlInputId);
          });
        }}
      >
        <label for={urlInputId}>URL</label>
        <input
          id={urlInputId}
          type="text"
          inputMode="url"
          autoComplete="off"
          spellcheck={false}
          placeholder={nextFresh}
          value={newUrl}
          onInput={(event) => setNewUrl(event.currentTarget.value)}
        />
        <button type="submit" disabled={disabled}>
          Add node
        </button>
      </form>
      <p class="rk-note rk-add-note">
        Asks the server you are on.{" "}
        <button
          type="button"
          disabled={disabled}
          onClick={() =>
            void session.startServer().then((ok) => {
              if (ok) setNewUrl(`http://127.0.0.${state.servers.length + 1}:8080`);
              focusSoon(urlInputId);
            })
          }
        >
          Start a new server
        </button>
      </p>
      <Result state={state} area="add-node" />
      <fieldset class="rk-network" id={`${id}-network`}>
        <legend>Network</legend>
        <p class="rk-note">{describeCuts(state.cuts, state.servers)}</p>
        <div class="rk-checks">
          {state.servers.map((server) => (
            <label key={server.url} class="rk-inline">
              <input
                type="checkbox"
                checked={group.includes(server.url)}
                onChange={(event) =>
                  setGroup(
                    event.currentTarget.checked
                      ? [...group, server.url]
                      : group.filter((u) => u !== server.url),
                  )
                }
              />
              {server.tag === "?" ? shortUrl(server.url).replace(/:8080$/, "") : server.tag}
            </label>
          ))}
        </div>
        <button
          type="button"
          id={`${id}-cut`}
          disabled={disabled || group.length === 0}
          onClick={() =>
            void session.cut(group).then((ok) => {
              if (ok) setGroup([]);
              focusSoon(ok ? `${id}-heal` : `${id}-cut`);
            })
          }
        >
          Cut off the checked
        </button>{" "}
        <button
          type="button"
          id={`${id}-heal`}
          disabled={disabled || state.cuts.length === 0}
          onClick={() =>
            void session
              .heal()
              .then(() =>
                focusSoon(() =>
                  document.querySelector<HTMLInputElement>(`#${id}-network input[type=checkbox]`),
                ),
              )
          }
        >
          Heal
        </button>
        <Result state={state} area="network" />
      </fieldset>
    </section>
  );
}
