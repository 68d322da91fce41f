import { useState } from "preact/hooks";
import type { ClientView, ReadBalance } from "../clients.ts";
import { formatMs, readBalances } from "../clients.ts";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { formatAt } from "../view-model.ts";
import { focusSoon } from "./focus.ts";
import { Result } from "./Result.tsx";

/**
 * The chapter pages' clients: each a real DocumentStore, with the topology it knows (preferred
 * node first), its read-balance mode, the servers it cannot reach, and every request it made —
 * which node answered and why. Unlike the Documents panel, which talks to the server the Studio is
 * open on, a client picks its node itself and fails over on its own.
 */
export function ClientsPanel({
  state,
  session,
  id,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
}) {
  if (state.clients.length === 0) return null;
  return (
    <section class="rk-panel rk-clients" aria-labelledby={`${id}-clients`}>
      <h3 id={`${id}-clients`}>
        {state.clients.length === 1 ? "Client" : "Clients"} of{" "}
        {state.selectedDatabase ?? "the database"}
      </h3>
      <div class="rk-client-cards">
        {state.clients.map((client) => (
          <ClientCard key={client.index} client={client} state={state} session={session} id={id} />
        ))}
      </div>
      <Result state={state} area="client" />
    </section>
  );
}

function ClientCard({
  client,
  state,
  session,
  id,
}: {
  client: ClientView;
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
}) {
  const [docId, setDocId] = useState("users/1");
  const [text, setText] = useState('{ "name": "Written by a client" }');
  const [replicas, setReplicas] = useState(0);
  const disabled = state.phase !== "running" || state.busy !== null;
  const base = `${id}-client${client.index + 1}`;
  const record = state.description?.databases.find((db) => db.name === state.selectedDatabase);
  const siblings = record
    ? record.members.length + record.promotables.length + record.rehabs.length - 1
    : 1;
  const tagOf = (url: string) => {
    const server = state.servers.find((s) => s.url === url);
    return server && server.tag !== "?" ? server.tag : url.replace(/^https?:\/\/|:8080$/g, "");
  };
  return (
    <div class="rk-client-card" data-client={client.index + 1}>
      <h4 id={`${base}-title`}>{client.name}</h4>
      <p class="rk-note">
        {client.topology.length === 0
          ? "It learns the topology with its first request."
          : `Topology (etag ${client.topologyEtag}), in the order it tries:`}
      </p>
      {client.topology.length > 0 ? (
        <ol class="rk-client-topology" aria-label={`${client.name}'s topology`}>
          {client.topology.map((node, i) => (
            <li key={node.url} class={node.failures > 0 ? "rk-failing" : ""}>
              <strong>{node.tag}</strong>
              {i === 0 ? " preferred" : ""} · {node.role}
              {node.failures > 0
                ? ` · failed ${node.failures}×`
                : client.cutOff.includes(node.url)
                  ? " · unreachable"
                  : ""}
              {client.fastest === node.tag ? " · fastest" : ""}
            </li>
          ))}
        </ol>
      ) : null}
      <p class="rk-inline">
        <label for={`${base}-balance`}>Read balance</label>
        <select
          id={`${base}-balance`}
          value={client.readBalance}
          disabled={disabled}
          onChange={(event) =>
            void session
              .setReadBalance(client.index, event.currentTarget.value as ReadBalance)
              .then(() => focusSoon(`${base}-balance`))
          }
        >
          {readBalances.map((mode) => (
            <option key={mode.value} value={mode.value}>
              {mode.label}
            </option>
          ))}
        </select>
      </p>
      <fieldset class="rk-checks rk-reach">
        <legend>Can reach</legend>
        {state.servers.map((server) => (
          <label key={server.url} class="rk-inline">
            <input
              type="checkbox"
              checked={!client.cutOff.includes(server.url)}
              disabled={disabled}
              onChange={(event) => {
                const cut = event.currentTarget.checked
                  ? client.cutOff.filter((url) => url !== server.url)
                  : [...client.cutOff, server.url];
                const target = event.currentTarget;
                void session.cutClientOff(client.index, cut).then(() => focusSoon(() => target));
              }}
            />
            {tagOf(server.url)}
          </label>
        ))}
      </fieldset>
      <form
        class="rk-form rk-client-form"
        onSubmit={(event) => {
          event.preventDefault();
          void session
            .saveThrough(client.index, docId, text, replicas)
            .then(() => focusSoon(`${base}-save`));
        }}
      >
        <label>
          Id
          <input
            type="text"
            autoComplete="off"
            spellcheck={false}
            value={docId}
            onInput={(event) => setDocId(event.currentTarget.value)}
          />
        </label>
        <label>
          Document (JSON)
          <input
            type="text"
            spellcheck={false}
            value={text}
            onInput={(event) => setText(event.currentTarget.value)}
          />
        </label>
        <label>
          Wait for replicas
          <select
            value={String(replicas)}
            onChange={(event) => setReplicas(Number(event.currentTarget.value))}
          >
            {Array.from({ length: Math.max(1, siblings) + 1 }, (_, n) => (
              <option key={n} value={String(n)}>
                {n === 0 ? "no (plain save)" : String(n)}
              </option>
            ))}
          </select>
        </label>
        <span class="rk-buttons">
          <button type="submit" id={`${base}-save`} disabled={disabled}>
            Save
          </button>
          <button
            type="button"
            id={`${base}-load`}
            disabled={disabled}
            onClick={() =>
              void session.loadThrough(client.index, docId).then(() => focusSoon(`${base}-load`))
            }
          >
            Load
          </button>
        </span>
      </form>
      <ol
        class="rk-client-requests"
        tabIndex={0}
        aria-label={`${client.name}'s requests, newest first`}
      >
        {client.requests.map((request) => (
          <li key={request.id} class={request.ok ? "" : "rk-failing"}>
            <span class="rk-event-at">{formatAt(request.atMs)}</span> {request.what} →{" "}
            <strong>node {request.node}</strong> ({request.why}){" "}
            {request.ok ? `${formatMs(request.ms)}` : `failed: ${request.detail ?? "no answer"}`}
          </li>
        ))}
      </ol>
    </div>
  );
}
