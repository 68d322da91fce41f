import { useEffect, useState } from "preact/hooks";

/**
 * useClusterClock re-renders on every animation frame while `active`, returning the cluster's
 * clock (which stands still while the playground is paused). Idle, it costs nothing.
 */
export function useClusterClock(active: boolean, nowMs: () => number): number {
  const [now, setNow] = useState(nowMs);
  useEffect(() => {
    if (!active || typeof requestAnimationFrame !== "function") return;
    let frame = requestAnimationFrame(function step() {
      setNow(nowMs());
      frame = requestAnimationFrame(step);
    });
    return () => cancelAnimationFrame(frame);
  }, [active, nowMs]);
  return active ? now : nowMs();
}
