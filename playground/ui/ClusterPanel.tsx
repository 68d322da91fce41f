import { useState } from "preact/hooks";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { describeCuts, leaderLine, serverRows, shortUrl } from "../view-model.ts";

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
  return (
    <section class="rk-panel" aria-labelledby={`${id}-cluster`}>
      <h3 id={`${id}-cluster`}>Cluster</h3>
      <p class="rk-note">{leaderLine(state.servers, state.selectedUrl)}</p>
      {extras ? (
        <p>
          <button type="button" disabled={disabled} onClick={() => void session.readTopology()}>
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
              <span class="rk-url">{row.url}</span>
              <span class="rk-role">
                {row.isLeader ? <strong class="rk-leader">★ leader</strong> : row.role} · term{" "}
                {row.term}
                {row.alive && !row.isLeader && row.tag !== "?" ? ` · leader: ${row.sees}` : ""}
              </span>
            </span>
            {row.alive ? (
              <button
                type="button"
                disabled={disabled}
                aria-label={`Kill ${row.name}`}
                onClick={() => void session.kill(row.url)}
              >
                Kill
              </button>
            ) : (
              <button
                type="button"
                disabled={disabled}
                aria-label={`Restart ${row.name}`}
                onClick={() => void session.restart(row.url)}
              >
                Restart
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        class="rk-form"
        onSubmit={(event) => {
          event.preventDefault();
          void session.addNode(newUrl).then(() => setNewUrl(""));
        }}
      >
        <label>
          Server URL
          <input
            type="text"
            inputMode="url"
            autoComplete="off"
            spellcheck={false}
            placeholder={nextFresh}
            value={newUrl}
            onInput={(event) => setNewUrl(event.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={disabled}>
          Add node
        </button>
      </form>
      <p class="rk-note">
        Add node asks the server you are on. A URL must belong to a running server:
      </p>
      <button type="button" disabled={disabled} onClick={() => void session.startServer()}>
        Start a new server
      </button>
      <fieldset class="rk-network">
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
              {server.tag === "?" ? shortUrl(server.url) : server.tag}
            </label>
          ))}
        </div>
        <button
          type="button"
          disabled={disabled || group.length === 0}
          onClick={() => void session.cut(group).then(() => setGroup([]))}
        >
          Cut off the checked servers
        </button>{" "}
        <button
          type="button"
          disabled={disabled || state.cuts.length === 0}
          onClick={() => void session.heal()}
        >
          Heal the network
        </button>
      </fieldset>
    </section>
  );
}
