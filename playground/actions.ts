/**
 * Runs scenario actions against a ClusterHandle, whatever its runtime. Every request goes to one
 * server by URL, the way the Studio of that server would send it.
 */
import type { ClusterHandle, ServerResponse } from "../engine/index.ts";
import type { Action, Condition } from "./scenarios.ts";

/** ActionContext is what actions need besides the cluster: the studio's selection and memory. */
export interface ActionContext {
  readonly cluster: ClusterHandle;
  select(url: string): void;
  /** Shows a database in the documents panel and the replication graph. */
  selectDatabase(name: string): void;
  /** The URL a scenario killed last ("killed" in a scenario refers to it). */
  killedUrl: string | null;
  /** Network cuts are part of the playground's state (the graph and reload need them). */
  partition(a: readonly string[], b: readonly string[]): void;
  heal(): void;
  /** Slows one link (worker runtime); the session remembers it across pause and reload. */
  slowLink(a: string, b: string, electionFraction: number): string;
  /** How long a step may wait for its condition. */
  readonly waitMs: number;
  /** The page's clients, when the scenario has any. */
  readonly clients?: ClientActions;
}

/** ClientActions is what client-* actions do (playground/clients.ts through the session). */
export interface ClientActions {
  save(
    client: number,
    id: string,
    body: Record<string, unknown>,
    replicas: number,
  ): Promise<string>;
  load(client: number, id: string): Promise<string>;
  setReadBalance(client: number, mode: "none" | "roundRobin" | "fastestNode"): void;
  setCutOff(client: number, urls: readonly string[]): void;
}

export class ActionFailed extends Error {}

/**
 * resolveServer turns a scenario's server reference into a URL: a URL itself, "killed", or
 * "preferred:DB" / "last:DB" (the first or last member of a database's group right now).
 */
export function resolveServer(
  context: Pick<ActionContext, "cluster" | "killedUrl">,
  ref: string,
): string {
  if (ref === "killed") {
    if (!context.killedUrl) throw new ActionFailed("no server was killed in this walkthrough yet");
    return context.killedUrl;
  }
  const match = /^(preferred|last):(.+)$/.exec(ref);
  if (!match) return ref;
  const description = context.cluster.describe();
  const record = description.databases.find((db) => db.name === match[2]);
  const tag = record
    ? match[1] === "preferred"
      ? record.members[0]
      : record.members[record.members.length - 1]
    : undefined;
  const server = description.cluster.find((s) => s.tag === tag);
  if (!server) throw new ActionFailed(`${match[2]} has no ${match[1]} member right now`);
  return server.url;
}

function resolveTag(context: Pick<ActionContext, "cluster" | "killedUrl">, tag: string): string {
  if (tag !== "killed") return tag;
  const url = resolveServer(context, "killed");
  return context.cluster.servers.find((s) => s.url === url)?.tag ?? tag;
}

function needClients(context: ActionContext): ClientActions {
  if (!context.clients) throw new ActionFailed("this playground has no clients");
  return context.clients;
}

/** outcome says how a request went, in one line. */
export function outcome(response: ServerResponse): string {
  return response.ok ? "ok" : `${response.error.code}: ${response.error.message}`;
}

/** holds evaluates a condition on the cluster's current description. */
export function holds(
  context: Pick<ActionContext, "cluster" | "killedUrl">,
  condition: Condition,
): boolean {
  const cluster = context.cluster;
  const description = cluster.describe();
  const record = (name: string) => description.databases.find((db) => db.name === name);
  switch (condition.kind) {
    case "tag":
      return cluster.servers.some(
        (s) => s.url === condition.url && s.tag === condition.tag && s.alive && s.leader !== null,
      );
    case "leader":
      return cluster.servers.some((s) => s.alive && s.role === "leader");
    case "no-leader-on":
      return cluster.servers.some((s) => s.url === condition.url && s.alive && s.leader === null);
    case "all-joined":
      return cluster.servers.every((s) => s.tag !== "?" && (!s.alive || s.leader !== null));
    case "documents": {
      const tag = resolveTag(context, condition.tag);
      const ids = description.documents[tag]?.[condition.database] ?? [];
      return condition.ids.every((id) => ids.includes(id));
    }
    case "members":
      return (record(condition.database)?.members.length ?? 0) >= condition.count;
    case "member-not-first": {
      const members = record(condition.database)?.members ?? [];
      return members.length > 0 && members[0] !== resolveTag(context, condition.tag);
    }
    case "in-rehab":
      return (
        record(condition.database)?.rehabs.includes(resolveTag(context, condition.tag)) ?? false
      );
    case "known-on":
      return true; // checked by a request in waitUntil
  }
}

/** waitUntil waits (in the cluster's time) for a condition. */
export async function waitUntil(context: ActionContext, condition: Condition): Promise<void> {
  if (condition.kind === "known-on") {
    const deadline = Date.now() + context.waitMs;
    for (;;) {
      const response = await context.cluster.network.request(
        condition.url,
        { type: "database-status", database: condition.database },
        { timeoutMs: 2_000 },
      );
      if (response.ok || Date.now() > deadline) return;
      await context.cluster.runFor(50);
    }
  }
  await context.cluster.waitFor(() => holds(context, condition), {
    timeoutMs: context.waitMs,
    what: describeCondition(condition),
  });
}

export function describeCondition(condition: Condition): string {
  switch (condition.kind) {
    case "tag":
      return `${condition.url} to join as node ${condition.tag}`;
    case "leader":
      return "a leader";
    case "no-leader-on":
      return `${condition.url} to see no leader`;
    case "all-joined":
      return "every server to join";
    case "documents":
      return `${condition.ids.join(", ")} on node ${condition.tag}`;
    case "members":
      return `${condition.count} members in ${condition.database}`;
    case "member-not-first":
      return `${condition.database}'s preferred node to change`;
    case "in-rehab":
      return `a node of ${condition.database} in rehab`;
    case "known-on":
      return `${condition.database} known on ${condition.url}`;
  }
}

/**
 * runAction performs one action and returns a sentence about how it went. A request the server
 * refuses throws ActionFailed with the server's message, unless the action expects the failure.
 */
export async function runAction(context: ActionContext, action: Action): Promise<string> {
  const { cluster } = context;
  const send = async (
    on: string,
    request: Parameters<ClusterHandle["network"]["request"]>[1],
    timeoutMs?: number,
  ) => {
    const response = await cluster.network.request(
      resolveServer(context, on),
      request,
      timeoutMs ? { timeoutMs } : {},
    );
    return response;
  };
  const must = (response: ServerResponse, what: string): string => {
    if (!response.ok) throw new ActionFailed(`${what}: ${outcome(response)}`);
    return `${what}: ok`;
  };
  switch (action.kind) {
    case "select":
      context.select(resolveServer(context, action.url));
      return `switched to ${action.url}`;
    case "create-database": {
      const response = await send(
        action.on,
        {
          type: "create-database",
          name: action.name,
          ...(action.replicationFactor ? { replicationFactor: action.replicationFactor } : {}),
        },
        30_000,
      );
      if (action.expectFailure)
        return response.ok
          ? `${action.name} was created after all`
          : `creating ${action.name} failed, as expected: ${response.error.message}`;
      const nodes = response.ok ? (response.result as { nodes?: string[] }).nodes : undefined;
      must(response, `create ${action.name}`);
      context.selectDatabase(action.name);
      return `created ${action.name}${nodes ? ` on ${nodes.join(", ")}` : ""}`;
    }
    case "put": {
      const response = await send(
        action.on,
        {
          type: "batch",
          database: action.database,
          transaction: { puts: action.documents },
          ...(action.waitForReplicas
            ? { writeAssurance: { replicas: action.waitForReplicas, timeoutMs: 3_000 } }
            : {}),
        },
        20_000,
      );
      const ids = action.documents.map((d) => d.id).join(", ");
      if (action.waitForReplicas && !response.ok)
        return `saved ${ids}, but: ${response.error.message}`;
      must(response, `save ${ids}`);
      return `saved ${ids}`;
    }
    case "delete":
      return must(
        await send(action.on, {
          type: "batch",
          database: action.database,
          transaction: { deletes: [{ id: action.id }] },
        }),
        `delete ${action.id}`,
      );
    case "add-node":
      return must(
        await send(action.on, { type: "add-node", url: action.url }, 30_000),
        `add node ${action.url}`,
      );
    case "start-server":
      return `started ${await cluster.addServer()}`;
    case "add-database-node":
      return must(
        await send(
          action.on,
          { type: "add-database-node", database: action.database, tag: action.tag },
          30_000,
        ),
        `add node ${action.tag} to ${action.database}`,
      );
    case "kill": {
      const target = resolveServer(context, action.url);
      await cluster.kill(target);
      context.killedUrl = target;
      return `killed ${target}`;
    }
    case "restart": {
      const target = resolveServer(context, action.url);
      await cluster.restart(target);
      return `restarted ${target}`;
    }
    case "partition":
      context.partition(action.a, action.b);
      return "network cut";
    case "heal":
      context.heal();
      return "network healed";
    case "set-conflict-resolution":
      return must(
        await send(
          action.on,
          {
            type: "set-conflict-resolution",
            database: action.database,
            resolution: action.resolution,
          },
          30_000,
        ),
        `conflict resolution ${action.resolution}`,
      );
    case "set-revisions":
      return must(
        await send(
          action.on,
          {
            type: "set-revisions",
            database: action.database,
            revisions: action.enabled
              ? {
                  default: null,
                  collections: {
                    [action.collection]: {
                      disabled: false,
                      minimumRevisionsToKeep: null,
                      purgeOnDelete: false,
                    },
                  },
                }
              : null,
          },
          30_000,
        ),
        `revisions ${action.enabled ? "on" : "off"} for ${action.collection}`,
      );
    case "slow-link":
      return context.slowLink(action.a, action.b, action.electionFraction);
    case "client-save":
      return await needClients(context).save(
        action.client,
        action.id,
        action.body,
        action.replicas ?? 0,
      );
    case "client-load":
      return await needClients(context).load(action.client, action.id);
    case "client-read-balance":
      needClients(context).setReadBalance(action.client, action.mode);
      return `client ${action.client + 1} reads with ${action.mode}`;
    case "client-cut":
      needClients(context).setCutOff(action.client, action.urls);
      return action.urls.length === 0
        ? `client ${action.client + 1} reaches every server`
        : `client ${action.client + 1} is cut off from ${action.urls.join(", ")}`;
    case "wait":
      await waitUntil(context, action.until);
      return `done waiting for ${describeCondition(action.until)}`;
  }
}
