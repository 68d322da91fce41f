/**
 * Next step and the reader's own hands: the chapter text invites the reader to use the panels, so
 * by the time they press Next step, some of the step may already be true (they created Spade
 * themselves) or impossible (they killed the server the step writes to). checkStep says which,
 * from the cluster's state now, so the session runs only what is left and says why.
 */
import type { ClusterHandle } from "../engine/index.ts";
import { holds, resolveServer } from "./actions.ts";
import type { NetworkCut } from "./model.ts";
import type { Action, Step } from "./scenarios.ts";
import { isCut, serverName, shortUrl } from "./view-model.ts";

/** ActionCheck says what an action of a step needs now. */
export type ActionCheck =
  | { readonly state: "todo" }
  /** Already true: skipping it changes nothing. */
  | { readonly state: "done"; readonly why: string }
  /** It cannot work now; `why` says what differs and what to do. */
  | { readonly state: "blocked"; readonly why: string };

/** What checking needs: the cluster, the scenario's memory ("killed"), and the reader's cuts. */
export interface CheckContext {
  readonly cluster: ClusterHandle;
  readonly killedUrl: string | null;
  readonly cuts: readonly NetworkCut[];
}

/** checkAction tells whether one action of a step is still to do, already true, or blocked. */
export function checkAction(context: CheckContext, action: Action): ActionCheck {
  const { cluster } = context;
  const server = (ref: string) => {
    let url: string;
    try {
      url = resolveServer(context, ref);
    } catch {
      return undefined;
    }
    return cluster.servers.find((s) => s.url === url);
  };
  const record = (name: string) =>
    cluster.describe().databases.find((db) => db.name.toLowerCase() === name.toLowerCase());
  switch (action.kind) {
    case "create-database": {
      if (action.expectFailure) return { state: "todo" };
      return record(action.name)
        ? { state: "done", why: `${action.name} already exists` }
        : { state: "todo" };
    }
    case "add-node": {
      const target = server(action.url);
      if (target && target.tag !== "?")
        return { state: "done", why: `${shortUrl(target.url)} is already node ${target.tag}` };
      if (target && !target.alive)
        return {
          state: "blocked",
          why: `${shortUrl(target.url)} is down, so it cannot join: restart it first`,
        };
      return { state: "todo" };
    }
    case "add-database-node": {
      const group = record(action.database);
      if (group && [...group.members, ...group.promotables, ...group.rehabs].includes(action.tag))
        return {
          state: "done",
          why: `node ${action.tag} is already in ${action.database}'s group`,
        };
      return { state: "todo" };
    }
    case "kill": {
      const target = server(action.url);
      return target && !target.alive
        ? { state: "done", why: `${serverName(target)} is already down` }
        : { state: "todo" };
    }
    case "restart": {
      const target = server(action.url);
      return target?.alive
        ? { state: "done", why: `${serverName(target)} is already running` }
        : { state: "todo" };
    }
    case "partition": {
      const all = action.a.every((a) => action.b.every((b) => isCut(context.cuts, a, b)));
      return all ? { state: "done", why: "the network is already cut there" } : { state: "todo" };
    }
    case "heal":
      return context.cuts.length === 0
        ? { state: "done", why: "the network is already whole" }
        : { state: "todo" };
    case "put": {
      const target = server(action.on);
      if (target && !target.alive)
        return {
          state: "blocked",
          why: `${serverName(target)} is down, so it cannot take ${action.documents.map((d) => d.id).join(", ")}: restart it first, or skip this step`,
        };
      return { state: "todo" };
    }
    default:
      return { state: "todo" };
  }
}

/** StepCheck is a whole step as the reader left it. */
export interface StepCheck {
  /** Things of the step the reader already did. */
  readonly done: readonly string[];
  /** The first thing that stops the step, if any. */
  readonly blocked: string | null;
  /** Every action with effects is already true, and so is the step's condition. */
  readonly complete: boolean;
}

/** Actions that only move the reader's view or wait: they never make a step "already done". */
const viewOnly = new Set<Action["kind"]>(["select", "wait"]);

export function checkStep(context: CheckContext, step: Step): StepCheck {
  const done: string[] = [];
  let blocked: string | null = null;
  let effects = 0;
  let effectsDone = 0;
  for (const action of step.actions) {
    if (viewOnly.has(action.kind)) continue;
    effects++;
    const check = checkAction(context, action);
    if (check.state === "done") {
      effectsDone++;
      done.push(check.why);
    } else if (check.state === "blocked" && blocked === null) blocked = check.why;
  }
  let conditionHolds = true;
  if (step.until) {
    try {
      conditionHolds = step.until.kind !== "known-on" && holds(context, step.until);
    } catch {
      conditionHolds = false;
    }
  }
  return { done, blocked, complete: effects > 0 && effectsDone === effects && conditionHolds };
}
