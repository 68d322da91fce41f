import { useState } from "preact/hooks";
import type { PlaygroundState, TimelineCategory } from "../model.ts";
import { formatAt, timelineCategories, visibleTimeline } from "../view-model.ts";

/** Lines rendered at once; the filter reaches the rest. */
const shownMax = 80;

/** Elections, cluster commands, topology changes with the supervisor's reasons, replication. */
export function Timeline({ state, id }: { state: PlaygroundState; id: string }) {
  const [categories, setCategories] = useState<ReadonlySet<TimelineCategory>>(
    new Set(timelineCategories.map((c) => c.id)),
  );
  const [query, setQuery] = useState("");
  const entries = visibleTimeline(state.timeline, categories, query);
  return (
    <section class="rk-panel rk-timeline" aria-labelledby={`${id}-timeline`}>
      <h3 id={`${id}-timeline`}>Timeline</h3>
      <div class="rk-timeline-tools">
        <label class="rk-inline">
          Filter{" "}
          <input
            type="search"
            value={query}
            placeholder="e.g. rehab"
            onInput={(event) => setQuery(event.currentTarget.value)}
          />
        </label>
        <details class="rk-categories">
          <summary>
            Show{" "}
            {categories.size === timelineCategories.length
              ? "everything"
              : `${categories.size} of ${timelineCategories.length} kinds`}
          </summary>
          <fieldset class="rk-checks">
            <legend class="rk-visually-hidden">Show</legend>
            {timelineCategories.map((category) => (
              <label key={category.id} class="rk-inline">
                <input
                  type="checkbox"
                  checked={categories.has(category.id)}
                  onChange={(event) => {
                    const next = new Set(categories);
                    if (event.currentTarget.checked) next.add(category.id);
                    else next.delete(category.id);
                    setCategories(next);
                  }}
                />
                {category.label}
              </label>
            ))}
          </fieldset>
        </details>
      </div>
      <ol class="rk-events" tabIndex={0} aria-label="Timeline, newest first">
        {entries.slice(0, shownMax).map((entry) => (
          <li
            key={entry.id}
            class={`rk-event rk-event-${entry.category}${entry.muted ? " rk-event-muted" : ""}`}
            data-category={entry.category}
            data-at={entry.atMs}
          >
            <span class="rk-event-at">{formatAt(entry.atMs)}</span>{" "}
            <span class="rk-event-where">{entry.where}</span> <span>{entry.text}</span>
            {entry.repeats ? <span class="rk-event-repeats"> (×{entry.repeats})</span> : null}
          </li>
        ))}
      </ol>
      {entries.length === 0 ? <p class="rk-note">Nothing yet.</p> : null}
    </section>
  );
}
