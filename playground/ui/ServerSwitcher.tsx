import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { serverName, shortUrl } from "../view-model.ts";

/**
 * The server the reader is "on", drawn as browser tabs whose icons carry the node tag (the
 * chapter's Figure 6.7). Radio buttons underneath, so arrow keys move between servers.
 */
export function ServerSwitcher({
  state,
  session,
  id,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
}) {
  const selected = state.servers.find((server) => server.url === state.selectedUrl);
  return (
    <fieldset class="rk-tabs">
      <legend>Studio open on</legend>
      <div class="rk-tabs-line">
        <div class="rk-tab-row">
          {state.servers.map((server) => (
            <label
              key={server.url}
              class={`rk-tab${server.url === state.selectedUrl ? " rk-tab-on" : ""}${server.alive ? "" : " rk-tab-down"}`}
            >
              <input
                type="radio"
                name={`${id}-server`}
                value={server.url}
                checked={server.url === state.selectedUrl}
                onChange={() => session.select(server.url)}
              />
              <span class="rk-tab-icon" aria-hidden="true">
                {server.tag}
              </span>
              <span class="rk-tab-url">{shortUrl(server.url)}</span>
              <span class="rk-visually-hidden">
                {server.tag === "?" ? " (tag ?, not in a cluster)" : ` (node ${server.tag})`}
                {server.alive ? "" : ", down"}
              </span>
            </label>
          ))}
        </div>
        {/* The chosen tab says where the reader is; only a dead server needs saying so. */}
        {selected && !selected.alive ? (
          <p class="rk-you-are-on">
            You are on <strong>{serverName(selected)}</strong>: this server is down.
          </p>
        ) : null}
      </div>
    </fieldset>
  );
}
