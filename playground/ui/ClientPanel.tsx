import { useState } from "preact/hooks";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { focusSoon } from "./focus.ts";
import { Result } from "./Result.tsx";

/**
 * The Client panel (exercise pages): the DocumentStore the exercise hands a solution, used by
 * hand. It picks its node from the database topology and fails over on its own, unlike the
 * Documents panel, which writes to the server the Studio is open on.
 */
export function ClientPanel({
  state,
  session,
  id,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
}) {
  const [docId, setDocId] = useState("users/10");
  const [text, setText] = useState('{\n  "name": "Written by the client"\n}');
  const [assured, setAssured] = useState(false);
  const disabled = state.phase !== "running" || state.busy !== null;
  const client = session.client;
  const preferred = client?.preferredNode?.tag;
  return (
    <section class="rk-panel" aria-labelledby={`${id}-client`}>
      <h3 id={`${id}-client`}>Client</h3>
      <p class="rk-note">
        A DocumentStore on {client?.database ?? "the exercise's database"}:{" "}
        {preferred
          ? `it prefers node ${preferred} and fails over on its own.`
          : "it learns the topology with its first request."}
      </p>
      <form
        class="rk-form rk-client"
        onSubmit={(event) => {
          event.preventDefault();
          void session.clientSave(docId, text, assured).then(() => focusSoon(`${id}-client-save`));
        }}
      >
        <label>
          Document id
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
          <textarea
            rows={3}
            spellcheck={false}
            value={text}
            onInput={(event) => setText(event.currentTarget.value)}
          />
        </label>
        <label class="rk-inline">
          <input
            type="checkbox"
            checked={assured}
            onChange={(event) => setAssured(event.currentTarget.checked)}
          />
          Wait for 1 replica (write assurance)
        </label>
        <div class="rk-buttons">
          <button type="submit" id={`${id}-client-save`} disabled={disabled}>
            Save through the client
          </button>
          <button
            type="button"
            id={`${id}-client-load`}
            disabled={disabled}
            onClick={() =>
              void session.clientLoad(docId).then(() => focusSoon(`${id}-client-load`))
            }
          >
            Load through the client
          </button>
        </div>
      </form>
      <Result state={state} area="client" />
    </section>
  );
}
