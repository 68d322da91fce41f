/**
 * An exercise page's island: the exercise's checklist, Hint, Show solution and the solved mark,
 * above a live playground that starts from the exercise's starting state and records what the
 * reader does. The checks are the exercise module's own (the ones `npm run exercise` runs).
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { ExerciseSession } from "../exercise-session.ts";
import type { ExerciseState } from "../exercise-session.ts";
import { cliCommand, exerciseScenario } from "../exercise-support.ts";
import type { ExerciseInfo } from "../exercise-support.ts";
import { browserStore, PlaygroundView } from "./Playground.tsx";
import { useAtom } from "./use-atom.ts";

export interface ExercisePlaygroundProps {
  readonly info: ExerciseInfo;
  readonly runtime?: "worker" | "sim";
}

export default function ExercisePlayground({ info, runtime = "worker" }: ExercisePlaygroundProps) {
  const exercise = useMemo(
    () => new ExerciseSession({ info, runtime, store: browserStore() }),
    [info.id, runtime],
  );
  const scenario = useMemo(() => exerciseScenario(info), [info.id]);
  (globalThis as { rookeryExercise?: ExerciseSession }).rookeryExercise = exercise;
  return (
    <PlaygroundView
      scenario={scenario}
      session={exercise.session}
      runtime={runtime}
      extras
      lifecycle={{ open: () => exercise.open(), dispose: () => exercise.dispose() }}
      onReset={() => exercise.reset()}
    >
      <ExercisePanel exercise={exercise} />
    </PlaygroundView>
  );
}

const marks = { done: "✓", open: "○", cli: "—" } as const;
const spoken = { done: "done", open: "not yet", cli: "checked by the CLI" } as const;

function ExercisePanel({ exercise }: { exercise: ExerciseSession }) {
  const live: ExerciseState = useAtom(exercise.state);
  // The page is rendered without localStorage: the solved mark appears once the island has
  // hydrated, so hydration meets the markup it expects (Preact does not patch attributes then).
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  const state: ExerciseState = mounted ? live : { ...live, solved: null };
  const { info, support } = exercise;
  const id = `rk-exercise-${info.id}`;
  const done = state.rows.filter((row) => row.state === "done").length;
  const summary =
    support.where === "cli"
      ? "This exercise is checked with the CLI; the checklist below does not tick here."
      : state.checked
        ? `${done} of ${state.rows.length} checks hold${state.allHoldNow ? " — solved!" : ""}`
        : `0 of ${state.rows.length} checks hold yet`;
  return (
    <div class="rk-exercise" data-solved={state.solved ? "true" : "false"} data-done={done}>
      <div class="rk-exercise-head">
        <h3 id={`${id}-checklist`}>Checklist</h3>
        {state.solved ? (
          <p class="rk-solved">
            <span aria-hidden="true">★ </span>Solved{" "}
            <span class="rk-note">
              on {new Date(state.solved.atIso).toLocaleDateString()} (kept in this browser)
            </span>
          </p>
        ) : null}
      </div>
      <p class="rk-note" role="status">
        {summary}
      </p>
      {state.note ? <p class="rk-error">{state.note}</p> : null}
      <ul class="rk-checklist" aria-labelledby={`${id}-checklist`}>
        {state.rows.map((row) => (
          <li
            key={row.id}
            class={`rk-check rk-check-${row.state}`}
            data-check={row.id}
            data-state={row.state}
          >
            <span class="rk-check-mark" aria-hidden="true">
              {marks[row.state]}
            </span>
            <span class="rk-check-text">
              <span class="rk-visually-hidden">{`${spoken[row.state]}: `}</span>
              {row.description}
              {row.detail ? <span class="rk-check-detail"> — {row.detail}</span> : null}
              {row.how && row.state !== "done" ? (
                <span class="rk-check-how">In the playground: {row.how}</span>
              ) : null}
            </span>
          </li>
        ))}
      </ul>
      {support.where === "cli" ? (
        <div class="rk-cli">
          <p>{support.why}</p>
          <p>Write your solution as a module and check it with:</p>
          <pre>
            <code>{cliCommand(info.number)}</code>
          </pre>
        </div>
      ) : null}
      <div class="rk-buttons">
        <button
          type="button"
          aria-controls={`${id}-hints`}
          disabled={state.hintsShown >= info.hints.length}
          onClick={() => exercise.showHint()}
        >
          {state.hintsShown === 0
            ? "Hint"
            : state.hintsShown < info.hints.length
              ? "Another hint"
              : "No more hints"}
        </button>
        <button
          type="button"
          aria-expanded={state.solutionShown}
          aria-controls={`${id}-solution`}
          onClick={() => exercise.toggleSolution()}
        >
          {state.solutionShown ? "Hide solution" : "Show solution"}
        </button>
      </div>
      <ol id={`${id}-hints`} class="rk-hints" aria-label="Hints" aria-live="polite">
        {info.hints.slice(0, state.hintsShown).map((hint, i) => (
          <li key={i}>{hint}</li>
        ))}
      </ol>
      <div id={`${id}-solution`} class="rk-solution" hidden={!state.solutionShown}>
        <p class="rk-note">
          The reference solution, step by step. Nothing here runs: do it yourself in the playground
          (or write it as code and check it with the CLI).
        </p>
        <ol>
          {info.steps.map((step, i) => (
            <li key={i}>{step}</li>
          ))}
        </ol>
      </div>
    </div>
  );
}
