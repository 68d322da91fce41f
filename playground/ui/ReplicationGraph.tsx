import type { PlaygroundState } from "../model.ts";
import {
  connectionRows,
  flowPosition,
  flowTripMs,
  graphSize,
  replicationGraph,
} from "../view-model.ts";
import { useClusterClock } from "./use-cluster-clock.ts";

/**
 * The figure the chapter left as a TODO: the instances of one database, the connections between
 * them (dashed when a server is down or cut off), and each replication batch as a dot that travels
 * from sender to receiver.
 */
export function ReplicationGraph({
  state,
  id,
  nowMs,
}: {
  state: PlaygroundState;
  id: string;
  /** The cluster's clock: each dot's trip starts at its event's time on it. */
  nowMs: () => number;
}) {
  // With reduced motion a batch appears at its destination instead of travelling there.
  const still =
    typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
  const graph = replicationGraph(
    state.description,
    state.selectedDatabase,
    state.cuts,
    state.flows,
  );
  const tripMs = flowTripMs(state.speed);
  const now = useClusterClock((graph?.flows.length ?? 0) > 0 && state.phase === "running", nowMs);
  const dots = (graph?.flows ?? []).flatMap((flow) => {
    const at = flowPosition(flow, now, tripMs, still);
    return at ? [{ flow, at }] : [];
  });
  const connections = graph ? connectionRows(graph, state.lags) : [];
  const titleId = `${id}-graph-title`;
  const descId = `${id}-graph-desc`;
  // What the last receiver did: an applied batch, never one merely sent.
  const latest = [...state.timeline]
    .reverse()
    .find(
      (entry) =>
        (entry.category === "replication" || entry.category === "conflict") &&
        !entry.muted &&
        (!graph || entry.text.startsWith(`${graph.database}:`)),
    );
  return (
    <section class="rk-panel rk-graph" aria-labelledby={`${id}-graph`}>
      <h3 id={`${id}-graph`}>Replication{graph ? `: ${graph.database}` : ""}</h3>
      {graph ? (
        <>
          <svg
            viewBox={`0 0 ${graph.width} ${graph.height}`}
            role="img"
            aria-labelledby={`${titleId} ${descId}`}
          >
            <title id={titleId}>Replication connections of {graph.database}</title>
            <desc id={descId}>{graph.summary}</desc>
            {graph.edges.map((edge) => {
              const a = graph.nodes.find((n) => n.tag === edge.from)!;
              const b = graph.nodes.find((n) => n.tag === edge.to)!;
              return (
                <line
                  key={`${edge.from}-${edge.to}`}
                  x1={a.x}
                  y1={a.y}
                  x2={b.x}
                  y2={b.y}
                  class={edge.live ? "rk-edge" : "rk-edge rk-edge-down"}
                />
              );
            })}
            {dots.map(({ flow, at }) => (
              <circle
                key={flow.id}
                r="6"
                class={flow.failed ? "rk-flow rk-flow-failed" : "rk-flow"}
                cx={at.x.toFixed(1)}
                cy={at.y.toFixed(1)}
                opacity={at.opacity.toFixed(2)}
                data-flow={flow.id}
                data-progress={at.progress.toFixed(3)}
              >
                <title>{flow.text}</title>
              </circle>
            ))}
            {graph.nodes.map((node) => (
              <g
                key={node.tag}
                class={`rk-node rk-node-${node.role}${node.alive ? "" : " rk-node-down"}`}
              >
                <circle cx={node.x} cy={node.y} r={graphSize.nodeRadius} />
                <text x={node.x} y={node.y + 5} text-anchor="middle">
                  {node.tag}
                </text>
                <text
                  x={node.x}
                  y={node.y + graphSize.nodeRadius + 14}
                  text-anchor="middle"
                  class="rk-node-label"
                >
                  {node.preferred ? "preferred" : node.role === "member" ? "" : node.role}
                  {node.alive ? "" : " (down)"}
                </text>
              </g>
            ))}
          </svg>
          <p class="rk-note">{graph.summary}</p>
          {connections.length > 0 ? (
            <ul class="rk-connections" aria-label="Connections and their lag">
              {connections.map((row) => (
                <li
                  key={`${row.from}-${row.to}`}
                  class={row.live ? "" : "rk-connection-down"}
                  data-connection={`${row.from}-${row.to}`}
                >
                  {row.from}→{row.to}: {row.live ? "up" : "down"}
                  {row.lagMs !== null ? `, lag ${Math.round(row.lagMs)} ms` : ""}
                </li>
              ))}
            </ul>
          ) : null}
          <p class="rk-note">
            Latest applied batch: {latest ? `${latest.where} ${latest.text}` : "none yet"}
          </p>
        </>
      ) : (
        <p class="rk-note">Create a database to see its instances and their connections.</p>
      )}
    </section>
  );
}
