/**
 * One chapter's live playground: a Preact island over a PlaygroundSession. The session (plain
 * TypeScript) owns the cluster and the state; these components only render it and call it.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef } from "preact/hooks";
import { sharedFromHash } from "../action-log.ts";
import { scenario as findScenario } from "../scenarios.ts";
import type { Scenario } from "../scenarios.ts";
import { PlaygroundSession } from "../session.ts";
import { ClientPanel } from "./ClientPanel.tsx";
import { ClientsPanel } from "./ClientsPanel.tsx";
import { ClusterPanel } from "./ClusterPanel.tsx";
import { Controls } from "./Controls.tsx";
import { DatabasesPanel } from "./DatabasesPanel.tsx";
import { DocumentsPanel } from "./DocumentsPanel.tsx";
import { RachisPanel } from "./RachisPanel.tsx";
import { ReplicationGraph } from "./ReplicationGraph.tsx";
import { ServerSwitcher } from "./ServerSwitcher.tsx";
import { Timeline } from "./Timeline.tsx";
import { useAtom } from "./use-atom.ts";
import "./playground.css";

export interface PlaygroundProps {
  /** Which chapter's scenario (playground/scenarios.ts). */
  readonly scenario: string;
  /** worker (the book: one Web Worker per server, IndexedDB) or sim (one thread, virtual time). */
  readonly runtime?: "worker" | "sim";
}

/** How long a playground may be out of view before its cluster pauses (scrolling past is not leaving). */
const pauseAfterHiddenMs = 1_500;

export function browserStore() {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export default function Playground({ scenario: scenarioId, runtime = "worker" }: PlaygroundProps) {
  const scenario = findScenario(scenarioId);
  const session = useMemo(
    () => new PlaygroundSession({ scenario, runtime, store: browserStore() }),
    [scenarioId, runtime],
  );
  return (
    <PlaygroundView
      scenario={scenario}
      session={session}
      runtime={runtime}
      lifecycle={{ open: () => openShared(session), dispose: () => session.dispose() }}
    />
  );
}

/**
 * openShared opens the playground, from the state a link carries when it has one (…#rk=…): the
 * link is read once, and taken off the address so a reload comes back to the reader's own state.
 */
function openShared(session: PlaygroundSession): Promise<void> {
  const shared = typeof location === "undefined" ? null : sharedFromHash(location.hash);
  if (shared) history.replaceState(history.state, "", location.pathname + location.search);
  return session.open(shared);
}

/** What opens and closes the cluster: the session itself, or an exercise around it. */
export interface PlaygroundLifecycle {
  open(): Promise<void>;
  dispose(): Promise<void>;
}

export interface PlaygroundViewProps {
  readonly scenario: Scenario;
  readonly session: PlaygroundSession;
  readonly runtime: "worker" | "sim";
  readonly lifecycle: PlaygroundLifecycle;
  /** Exercise pages: Read the cluster topology, conflict resolution, and the Client panel. */
  readonly extras?: boolean;
  /** Shown above the controls (an exercise's checklist). */
  readonly children?: ComponentChildren;
  /** What Reset does, when more than the session's reset (an exercise's). */
  readonly onReset?: () => Promise<void>;
}

/** PlaygroundView renders a session and runs its lifecycle (open, pause out of view, save on leaving). */
export function PlaygroundView({
  scenario,
  session,
  runtime,
  lifecycle,
  extras = false,
  children,
  onReset,
}: PlaygroundViewProps) {
  const state = useAtom(session.state);
  const root = useRef<HTMLElement>(null);
  const id = `rk-${scenario.id}`;
  const clusterNow = useMemo(() => () => session.clusterNowMs(), [session]);

  useEffect(() => {
    // The browser console (and the book's benchmark) can reach the running playground.
    (globalThis as { rookeryPlayground?: PlaygroundSession }).rookeryPlayground = session;
    void lifecycle.open();
    const save = () => void lifecycle.dispose();
    // A page restored from the back/forward cache has lost its workers: load it afresh, and the
    // playground comes back from its saved state.
    const restored = (event: PageTransitionEvent) => {
      if (event.persisted) location.reload();
    };
    addEventListener("pagehide", save);
    addEventListener("pageshow", restored);
    return () => {
      removeEventListener("pagehide", save);
      removeEventListener("pageshow", restored);
      void lifecycle.dispose();
    };
  }, [session]);

  // A playground scrolled out of view pauses its cluster, and resumes when it comes back.
  useEffect(() => {
    const element = root.current;
    if (!element || typeof IntersectionObserver !== "function") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const observer = new IntersectionObserver(([entry]) => {
      clearTimeout(timer);
      if (!entry) return;
      if (entry.isIntersecting) {
        if (session.state.get().pausedBy === "scroll") void session.resume();
      } else {
        timer = setTimeout(() => {
          if (session.state.get().phase === "running") void session.pause("scroll");
        }, pauseAfterHiddenMs);
      }
    });
    observer.observe(element);
    return () => {
      clearTimeout(timer);
      observer.disconnect();
    };
  }, [session]);

  const status =
    state.phase === "failed"
      ? "The playground could not start. Reset tries again."
      : state.phase === "paused"
        ? state.pausedBy === "scroll"
          ? "Paused while out of view: every server is frozen where it was, its timers stopped."
          : "Paused: every server is frozen where it was (no ticks, no timers, messages held). Resume lets them run on: no election follows."
        : state.phase === "pausing"
          ? "Pausing…"
          : state.busy
            ? `${state.busy}…`
            : state.phase === "starting" || state.phase === "idle"
              ? "Starting the servers…"
              : "";

  return (
    <section
      ref={root}
      class="rk-playground not-content"
      aria-labelledby={`${id}-title`}
      data-pagefind-ignore
      data-phase={state.phase}
      data-busy={state.busy ? "true" : "false"}
      data-step={state.step.done}
    >
      <header class="rk-header">
        <h2 id={`${id}-title`} class="rk-title">
          Live playground: {scenario.title}
        </h2>
        <p class="rk-note rk-header-note">
          {runtime === "worker"
            ? "Each server is a real engine in its own Web Worker, with its data in IndexedDB."
            : "The servers run in this page, on the simulator's virtual clock."}
        </p>
      </header>
      {children}
      <Controls state={state} session={session} id={id} onReset={onReset} rewind={!extras} />
      <p class="rk-phase" role="status">
        {status}
      </p>
      <ServerSwitcher state={state} session={session} id={id} />
      {/* The three things a step is about, side by side on a wide screen: the servers, the
          database group's replication, and what happened (the timeline). */}
      <div class="rk-workbench">
        <ClusterPanel state={state} session={session} id={id} extras={extras} />
        <ReplicationGraph state={state} id={id} nowMs={clusterNow} />
        <Timeline state={state} id={id} />
      </div>
      <RachisPanel
        state={state}
        session={session}
        id={id}
        open={scenario.rachis === true}
        nowMs={clusterNow}
      />
      <ClientsPanel state={state} session={session} id={id} />
      <div class="rk-grid">
        <DatabasesPanel state={state} session={session} id={id} extras={extras} />
        <DocumentsPanel state={state} session={session} id={id} watchSum={scenario.watchSum} />
        {extras ? <ClientPanel state={state} session={session} id={id} /> : null}
      </div>
    </section>
  );
}
