import type { PlaygroundState } from "../model.ts";
import type { PlaygroundSession } from "../session.ts";
import { speeds } from "../view-model.ts";

/** Next step, Reset, Pause/Resume and the speed: the walkthrough and the clock. */
export function Controls({
  state,
  session,
  id,
  onReset,
}: {
  state: PlaygroundState;
  session: PlaygroundSession;
  id: string;
  onReset?: (() => Promise<void>) | undefined;
}) {
  const running = state.phase === "running";
  const busy = state.busy !== null;
  const { step } = state;
  return (
    <div class="rk-controls">
      {step.total === 0 ? null : (
        <div class="rk-step">
          <button
            type="button"
            class="rk-primary"
            disabled={!running || busy || step.nextTitle === null}
            onClick={() => void session.nextStep()}
          >
            Next step
          </button>
          <div class="rk-step-text" id={`${id}-step`}>
            <p aria-live="polite">
              {step.lastTitle ? (
                <strong>{`Step ${step.done} of ${step.total}: ${step.lastTitle}. `}</strong>
              ) : null}
              <span class="rk-step-explanation">{step.explanation}</span>
            </p>
            <p class="rk-note">
              {step.nextTitle === null
                ? "The walkthrough is over: free play. Reset starts the section again."
                : `Next: ${step.nextTitle}`}
            </p>
          </div>
        </div>
      )}
      <div class="rk-clock">
        <button
          type="button"
          disabled={
            busy ||
            (state.phase !== "running" && state.phase !== "failed" && state.phase !== "paused")
          }
          onClick={() => void (onReset ? onReset() : session.reset())}
        >
          Reset
        </button>
        {state.phase === "paused" ? (
          <button type="button" disabled={busy} onClick={() => void session.resume()}>
            Resume
          </button>
        ) : (
          <button
            type="button"
            disabled={!running || busy}
            onClick={() => void session.pause("reader")}
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
      </div>
    </div>
  );
}
