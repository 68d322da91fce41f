import type { PlaygroundState, ResultArea } from "../model.ts";

/**
 * Result shows the outcome of the reader's last action next to the control that caused it: the
 * region is always there (so screen readers announce what appears in it) and shows only its own
 * area's result.
 */
export function Result({ state, area }: { state: PlaygroundState; area: ResultArea }) {
  const mine = state.message?.area === area ? state.message : null;
  return (
    <p
      class={`rk-result${mine?.error ? " rk-error" : ""}`}
      role="status"
      data-area={area}
      data-error={mine?.error ? "true" : "false"}
    >
      {mine?.text ?? ""}
    </p>
  );
}
