import { useEffect, useState } from "preact/hooks";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { serverName, sumOfField } from "../view-model.ts";
import { focusSoon } from "./focus.ts";
import { Result } from "./Result.tsx";

/**
 * Documents of one database on the server the reader is on: list, open, edit, New document,
 * delete. Contents are plain text in a textarea; nothing a document holds is ever parsed as HTML.
 */
interface DocumentsPanelProps {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
  /** A total to keep in view, such as the accounts' (scenario.watchSum). */
  watchSum?:
    { readonly label: string; readonly database: string; readonly field: string } | undefined;
}

export function DocumentsPanel({ state, session, id, watchSum }: DocumentsPanelProps) {
  const open = state.openDocument;
  const [docId, setDocId] = useState(open?.id ?? "");
  const [text, setText] = useState(open?.text ?? "");
  useEffect(() => {
    setDocId(open?.id ?? "");
    setText(open?.text ?? "");
  }, [open?.id, open?.database, open?.isNew, open?.text]);
  const disabled = state.phase !== "running" || state.busy !== null;
  const selected = state.servers.find((server) => server.url === state.selectedUrl);
  const here = selected ? serverName(selected) : "this server";
  const database = state.selectedDatabase;
  // The databases this server's Studio knows (see databaseRows).
  const names = (state.description?.databases.map((db) => db.name) ?? []).filter(
    (name) => state.statuses[name] === "Online" || state.statuses[name] === "Offline",
  );
  const status = database ? state.statuses[database] : undefined;
  return (
    <section class="rk-panel" aria-labelledby={`${id}-documents`}>
      <h3 id={`${id}-documents`}>Documents on {here}</h3>
      {names.length > 0 ? (
        <p class="rk-inline">
          <label for={`${id}-database`}>Database</label>
          <select
            id={`${id}-database`}
            value={database ?? ""}
            onChange={(event) => session.selectDatabase(event.currentTarget.value)}
          >
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </p>
      ) : (
        <p class="rk-note">No databases on this server's Studio.</p>
      )}
      {database && status !== "Online" ? (
        <p class="rk-note">
          {database} is{" "}
          {status === "server down"
            ? "unreachable: the server is down"
            : `${status ?? "unknown"} on ${here}`}
          .
        </p>
      ) : null}
      {state.documents ? (
        state.documents.length === 0 ? (
          <p class="rk-note">
            No documents in {database} on {here}.
          </p>
        ) : (
          <ul class="rk-documents" aria-label={`Documents in ${database} on ${here}`}>
            {state.documents.map((doc) => (
              <li key={doc.id}>
                <button
                  type="button"
                  class="rk-link"
                  aria-pressed={open?.id === doc.id}
                  onClick={() => session.openDocument(doc.id)}
                >
                  {doc.id}
                </button>
              </li>
            ))}
          </ul>
        )
      ) : null}
      {watchSum && database === watchSum.database && state.documents ? (
        <p class="rk-sum" aria-live="polite">
          {watchSum.label} on {here}:{" "}
          <strong>{sumOfField(state.documents, watchSum.field) ?? "—"}</strong> (
          {state.documents
            .map(
              (doc) =>
                `${doc.id.split("/")[1] ?? doc.id} ${String((doc.body as Record<string, unknown>)[watchSum.field] ?? "—")}`,
            )
            .join(" · ")}
          )
        </p>
      ) : null}
      <button
        type="button"
        id={`${id}-new-doc`}
        disabled={disabled || status !== "Online"}
        onClick={() => {
          session.newDocument();
          focusSoon(`${id}-doc-id`);
        }}
      >
        New document
      </button>
      {open ? (
        <form
          class="rk-form rk-editor"
          onSubmit={(event) => {
            event.preventDefault();
            void session
              .saveDocument(docId, text)
              .then((ok) => focusSoon(ok ? `${id}-doc-save` : `${id}-doc-text`));
          }}
        >
          {open.isNew ? (
            <label>
              Id
              <input
                id={`${id}-doc-id`}
                type="text"
                autoComplete="off"
                placeholder="users/4"
                value={docId}
                onInput={(event) => setDocId(event.currentTarget.value)}
              />
            </label>
          ) : (
            <p class="rk-doc-id">
              <strong>{open.id}</strong> on {here}
            </p>
          )}
          <label>
            Contents (JSON)
            <textarea
              id={`${id}-doc-text`}
              rows={6}
              spellcheck={false}
              value={text}
              onInput={(event) => setText(event.currentTarget.value)}
            />
          </label>
          <div class="rk-buttons">
            <button type="submit" id={`${id}-doc-save`} disabled={disabled}>
              Save
            </button>
            {!open.isNew ? (
              <button
                type="button"
                disabled={disabled}
                aria-label={`Delete ${open.id}`}
                onClick={() =>
                  void session.deleteDocument(open.id).then(() => focusSoon(`${id}-new-doc`))
                }
              >
                Delete
              </button>
            ) : null}
            <button
              type="button"
              onClick={() => {
                session.closeDocument();
                focusSoon(`${id}-new-doc`);
              }}
            >
              Close
            </button>
          </div>
        </form>
      ) : null}
      <Result state={state} area="documents" />
    </section>
  );
}
