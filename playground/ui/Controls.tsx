import { useState } from "preact/hooks";
import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { speeds } from "../view-model.ts";
import { focusSoon } from "./focus.ts";
import { Result } from "./Result.tsx";

/**
 * Next step (with its explanation, the prediction to make first and the answer after), Reset,
 * Pause/Resume and the speed. The row of buttons stays in view on a narrow screen.
 */
export function Controls({
  state,
  session,
  id,
  onReset,
  rewind = true,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
  onReset?: (() => Promise<void>) | undefined;
  /** Back one step and Share (chapter playgrounds; an exercise page records instead). */
  rewind?: boolean;
}) {
  const [link, setLink] = useState<string | null>(null);
  const running = state.phase === "running";
  const busy = state.busy !== null;
  const { step } = state;
  const walkthrough = step.total > 0;
  const nextId = `${id}-next`;
  const stepTextId = `${id}-step`;
  const afterStep = () =>
    focusSoon(() => {
      const next = document.getElementById(nextId) as HTMLButtonElement | null;
      if (next && !next.disabled) return next;
      return document.getElementById(stepTextId);
    });
  return (
    <div class="rk-controls">
      <div class="rk-bar">
        <span class="rk-step-buttons">
          {walkthrough ? (
            <button
              type="button"
              id={nextId}
              class="rk-primary rk-next"
              disabled={!running || busy || step.nextTitle === null}
              aria-describedby={stepTextId}
              onClick={() => void session.nextStep().then(afterStep)}
            >
              Next step
            </button>
          ) : null}
          {walkthrough && step.failed && step.nextTitle ? (
            <button
              type="button"
              class="rk-skip"
              disabled={busy}
              onClick={() => void session.skipStep().then(afterStep)}
            >
              Skip this step
            </button>
          ) : null}
          {rewind ? (
            <button
              type="button"
              id={`${id}-back`}
              disabled={!running || busy || state.undo === null}
              // What it undoes is its description, not its name: a name that quoted the action
              // ("undo Next step 1") would read as that action's control too.
              aria-describedby={state.undo ? `${id}-back-what` : undefined}
              title={state.undo ? `Undo ${state.undo}` : undefined}
              onClick={() =>
                void session.back().then(() => focusSoon(state.logged > 1 ? `${id}-back` : nextId))
              }
            >
              Back one step
            </button>
          ) : null}
          {rewind && state.undo ? (
            <span id={`${id}-back-what`} class="rk-visually-hidden">
              Undoes {state.undo}
            </span>
          ) : null}
        </span>
        <span class="rk-clock">
          <button
            type="button"
            disabled={
              busy ||
              (state.phase !== "running" && state.phase !== "failed" && state.phase !== "paused")
            }
            onClick={() =>
              void (onReset ? onReset() : session.reset()).then(() =>
                focusSoon(walkthrough ? nextId : `${id}-pause`),
              )
            }
          >
            Reset
          </button>
          {state.phase === "paused" ? (
            <button
              type="button"
              id={`${id}-pause`}
              disabled={busy}
              onClick={() => void session.resume().then(() => focusSoon(`${id}-pause`))}
            >
              Resume
            </button>
          ) : (
            <button
              type="button"
              id={`${id}-pause`}
              disabled={!running || busy}
              onClick={() => void session.pause("reader").then(() => focusSoon(`${id}-pause`))}
            >
              Pause
            </button>
          )}
          <span class="rk-inline">
            <label for={`${id}-speed`}>Speed</label>
            <select
              id={`${id}-speed`}
              value={String(state.speed)}
              disabled={busy || state.phase === "starting"}
              onChange={(event) => void session.setSpeed(Number(event.currentTarget.value))}
            >
              {speeds.map((speed) => (
                <option key={speed.value} value={String(speed.value)}>
                  {speed.label}
                </option>
              ))}
            </select>
          </span>
          {rewind ? (
            <button
              type="button"
              id={`${id}-share`}
              disabled={busy || state.phase !== "running"}
              onClick={() => {
                const made = session.shareLink(location.href);
                setLink(made);
                // Copying needs permission some browsers do not give; the field below always has it.
                void navigator.clipboard?.writeText(made).catch(() => {});
                focusSoon(`${id}-link`);
              }}
            >
              Share
            </button>
          ) : null}
        </span>
      </div>
      <Result state={state} area="clock" />
      {rewind && link && state.message?.area === "share" && !state.message.error ? (
        <p class="rk-share">
          <label for={`${id}-link`}>Link to this state</label>
          <input
            id={`${id}-link`}
            type="text"
            readOnly
            value={link}
            onFocus={(event) => event.currentTarget.select()}
          />
        </p>
      ) : null}
      <Result state={state} area="share" />
      {walkthrough ? <StepText state={state} session={session} id={id} /> : null}
    </div>
  );
}

/** The walkthrough in words: the step just taken, its prediction's answer, and what comes next. */
function StepText({
  state,
  session,
  id,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
}) {
  const { step } = state;
  const reveal = step.reveal;
  return (
    <div class="rk-step-text" id={`${id}-step`} tabIndex={-1}>
      <p>
        {step.lastTitle ? (
          <strong>{`Step ${step.done} of ${step.total}: ${step.lastTitle}. `}</strong>
        ) : null}
        <span class="rk-step-explanation">{step.explanation}</span>
      </p>
      {reveal ? (
        <div class="rk-reveal" data-correct={String(reveal.picked === reveal.answer)}>
          <p>
            <strong>
              {reveal.picked === null
                ? "What happened: "
                : reveal.picked === reveal.answer
                  ? "You predicted it: "
                  : `You predicted “${reveal.choices[reveal.picked]}”. What happened: `}
            </strong>
            {reveal.choices[reveal.answer]}.
          </p>
          <p class="rk-note">{reveal.explain}</p>
        </div>
      ) : null}
      <Result state={state} area="step" />
      <p class="rk-note rk-next-title">
        {step.nextTitle === null
          ? "The walkthrough is over: free play. Reset starts the section again."
          : `Next: ${step.nextTitle}`}
        {step.nextTitle !== null && step.alreadyDone.length > 0
          ? ` — already done by hand: ${step.alreadyDone.join("; ")}. Next step does the rest.`
          : ""}
      </p>
      {step.predict && step.nextTitle !== null ? (
        <fieldset class="rk-predict">
          <legend>Predict first: {step.predict.question}</legend>
          {step.predict.choices.map((choice, i) => (
            <label key={i} class="rk-choice">
              <input
                type="radio"
                name={`${id}-predict-${step.done}`}
                checked={step.picked === i}
                onChange={() => session.pick(i)}
              />
              {choice}
            </label>
          ))}
          <p class="rk-note">Then press Next step and see.</p>
        </fieldset>
      ) : null}
    </div>
  );
}
