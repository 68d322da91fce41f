import type { PlaygroundState } from "../model.ts";
import { flowVisibleMs, graphSize, replicationGraph } from "../view-model.ts";

/**
 * The figure the chapter left as a TODO: the instances of one database, the connections between
 * them (dashed when a server is down or cut off), and each replication batch as a dot that travels
 * from sender to receiver.
 */
export function ReplicationGraph({ state, id }: { state: PlaygroundState; id: string }) {
  // With reduced motion a batch appears at its destination instead of travelling there.
  const still =
    typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
  const graph = replicationGraph(
    state.description,
    state.selectedDatabase,
    state.cuts,
    state.flows,
  );
  const titleId = `${id}-graph-title`;
  const descId = `${id}-graph-desc`;
  const latest = [...state.timeline]
    .reverse()
    .find(
      (entry) =>
        entry.category === "replication" && (!graph || entry.text.includes(graph.database)),
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
            {graph.flows.map((flow) => (
              <circle key={flow.id} r="6" class="rk-flow" cx={flow.x2} cy={flow.y2}>
                {still ? null : (
                  <animate
                    attributeName="cx"
                    from={String(flow.x1)}
                    to={String(flow.x2)}
                    dur={`${flowVisibleMs * 0.6}ms`}
                    fill="freeze"
                  />
                )}
                {still ? null : (
                  <animate
                    attributeName="cy"
                    from={String(flow.y1)}
                    to={String(flow.y2)}
                    dur={`${flowVisibleMs * 0.6}ms`}
                    fill="freeze"
                  />
                )}
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
          <p class="rk-note">Latest batch: {latest ? latest.text : "none yet"}</p>
        </>
      ) : (
        <p class="rk-note">Create a database to see its instances and their connections.</p>
      )}
    </section>
  );
}
