/**
 * The CLI's command interpreter: one line of text in, one text answer out, against any
 * ClusterHandle (sim or worker). The commands mirror the Studio's actions in the chapter — add a
 * server, add a node by URL, kill and restart, partition and heal, create a database, add a node
 * to its group, put/get/delete/list documents on a chosen server, the cluster and topology
 * screens, who leads, wait for replication. No terminal here: cli/commands/cluster.ts wires it to
 * readline, and tests call it directly.
 */
import { isRookeryError } from "../../core/index.ts";
import type {
  DocumentView,
  ServerRequest,
  ServerResponse,
  TopologyView,
  TraceEvent,
} from "../../server/index.ts";
import type { ClusterHandle } from "../cluster.ts";
import {
  renderCluster,
  renderDatabases,
  renderDocumentList,
  renderDocuments,
  renderTopology,
  renderTrace,
} from "./render.ts";

/** CommandSpec documents one command for help and usage errors. */
interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
}

/** commandSpecs lists every command in the order help shows them. */
export const commandSpecs: Readonly<Record<string, CommandSpec>> = {
  "add-server": {
    usage: "add-server",
    summary: "start one more fresh server (it shows ? until it joins)",
  },
  "add-node": {
    usage: "add-node <url>",
    summary: "add the server at <url> to the cluster (Cluster → Add node)",
  },
  kill: { usage: "kill <tag|url>", summary: "stop a server as a crash would" },
  restart: { usage: "restart <tag|url>", summary: "start a killed server again from its storage" },
  partition: {
    usage: "partition <A,B> <C,D>",
    summary: "cut every link between two groups of servers",
  },
  isolate: {
    usage: "isolate <tag|url>",
    summary: "cut one server off from everyone, clients included",
  },
  heal: { usage: "heal", summary: "end every partition and isolation" },
  "create-database": {
    usage: "create-database <name> [--factor N | --nodes A,B]",
    summary: "create a database (factor 1 by default)",
  },
  "add-db-node": {
    usage: "add-db-node <database> [tag]",
    summary: "add a node to a database group (Manage group → Add node)",
  },
  put: { usage: "put <tag|url> <database> <id> <json>", summary: "store a document on one server" },
  get: { usage: "get <tag|url> <database> <id>", summary: "read a document from one server" },
  delete: { usage: "delete <tag|url> <database> <id>", summary: "delete a document on one server" },
  list: { usage: "list <tag|url> <database>", summary: "list the documents one server holds" },
  cluster: {
    usage: "cluster",
    summary: "the cluster screen: servers, roles, leader, term; and the databases",
  },
  documents: {
    usage: "documents",
    summary: "the document ids every running server holds, per database",
  },
  topology: {
    usage: "topology <database>",
    summary: "a database's group: members (preferred first), promotables, rehabs",
  },
  leader: { usage: "leader", summary: "which node leads the cluster, and in which term" },
  "wait-replication": {
    usage: "wait-replication <database> [--timeout MS]",
    summary: "wait until every running instance has the same documents",
  },
  trace: {
    usage: "trace on|off",
    summary: "print role changes, cluster commands, topology changes and replication batches",
  },
  help: { usage: "help [command]", summary: "list the commands, or explain one" },
  quit: { usage: "quit", summary: "stop the cluster and leave (also: exit)" },
};

/** CommandResult is what one line produced; `quit` asks the caller to stop. */
export interface CommandResult {
  readonly text: string;
  readonly ok: boolean;
  readonly quit?: boolean;
}

/** InterpreterOptions: where asynchronous output (trace lines) goes. */
export interface InterpreterOptions {
  readonly print?: (text: string) => void;
  /** How long wait-replication waits by default (ms of the cluster's clock). */
  readonly waitTimeoutMs?: number;
  /** How long one request waits for its answer (ms of the cluster's clock). */
  readonly requestTimeoutMs?: number;
}

/** Interpreter runs CLI lines against one cluster. */
export interface Interpreter {
  execute(line: string): Promise<CommandResult>;
  /** The command names, for completion. */
  readonly names: readonly string[];
  /** dispose stops the trace subscription, if any. */
  dispose(): void;
}

/** UsageError is a bad command line; its message is shown as is. */
class UsageError extends Error {}

const done = (text: string): CommandResult => ({ text, ok: true });
const failed = (text: string): CommandResult => ({ text, ok: false });

/** tokens splits a line on white space, keeping the rest of the line from token `keep` on whole. */
function tokens(line: string, keep = Infinity): string[] {
  const out: string[] = [];
  let rest = line.trim();
  while (rest.length > 0) {
    if (out.length === keep) {
      out.push(rest);
      break;
    }
    const match = /^(\S+)\s*/.exec(rest)!;
    out.push(match[1]!);
    rest = rest.slice(match[0].length);
  }
  return out;
}

/** distance is the edit distance between two short words (for "did you mean"). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current.push(
        Math.min(
          previous[j]! + 1,
          current[j - 1]! + 1,
          previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        ),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function errorText(response: Extract<ServerResponse, { ok: false }>): string {
  return `${response.error.code}: ${response.error.message}`;
}

/** createInterpreter returns an interpreter for `cluster`; see commandSpecs for the commands. */
export function createInterpreter(
  cluster: ClusterHandle,
  options: InterpreterOptions = {},
): Interpreter {
  const print = options.print ?? (() => {});
  const waitTimeoutMs = options.waitTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  let unsubscribe: (() => void) | undefined;

  const usage = (name: string): never => {
    throw new UsageError(`usage: ${commandSpecs[name]!.usage}`);
  };

  /** server finds a server by tag or URL, with a message listing them when there is none. */
  const server = (name: string, tagOrUrl: string): string => {
    const found = cluster.servers.find((s) => s.tag === tagOrUrl || s.url === tagOrUrl);
    if (found) return found.url;
    const known = cluster.servers.map((s) => `${s.tag} (${s.url})`).join(", ");
    const joining = cluster.servers.some((s) => s.tag === "?")
      ? " (a server shows its tag once it joined; name a ? server by its URL)"
      : "";
    throw new UsageError(`${name}: no server "${tagOrUrl}"; the servers are ${known}${joining}`);
  };

  /** coordinator is where cluster-wide operations go: the leader if any, else the first running server. */
  const coordinator = (): string => {
    const running = cluster.servers.filter((s) => s.alive);
    const leader = running.find((s) => s.role === "leader");
    const first = leader ?? running[0];
    if (!first) throw new UsageError("every server is down; restart one first");
    return first.url;
  };

  const ask = (url: string, request: ServerRequest): Promise<ServerResponse> =>
    cluster.network.request(url, request, { timeoutMs: requestTimeoutMs });

  const group = (name: string, value: string | undefined): string[] => {
    if (!value) usage(name);
    const members = value!
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (members.length === 0) usage(name);
    for (const member of members) server(name, member);
    return members;
  };

  /** wholeNumber parses a flag's value as a whole number of at least `min`. */
  const wholeNumber = (
    name: string,
    flag: string,
    value: string | undefined,
    min: number,
  ): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min) {
      throw new UsageError(
        `${name}: ${flag} needs a whole number of at least ${min}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`,
      );
    }
    return n;
  };

  /**
   * untilKnownOn waits (briefly) until the running servers among `tags` have applied a new
   * database, so the next command can use it there; the leader answered once it applied it.
   */
  async function untilKnownOn(database: string, tags: readonly string[]): Promise<void> {
    const deadline = cluster.nowMs() + requestTimeoutMs;
    for (const tag of tags) {
      const url = cluster.servers.find((s) => s.tag === tag && s.alive)?.url;
      while (url && cluster.nowMs() < deadline) {
        const response = await ask(url, { type: "database-status", database });
        if (response.ok || response.error.code !== "DatabaseDoesNotExist") break;
        await cluster.runFor(20);
      }
    }
  }

  async function waitReplication(database: string, timeoutMs: number): Promise<CommandResult> {
    const started = cluster.nowMs();
    let last = "";
    for (;;) {
      const record = cluster
        .describe()
        .databases.find((db) => db.name.toLowerCase() === database.toLowerCase());
      if (!record)
        return failed(
          `wait-replication: no database "${database}" in the cluster (as far as the running servers know)`,
        );
      const group = [...record.members, ...record.promotables, ...record.rehabs];
      const running = cluster.servers.filter((s) => s.alive && group.includes(s.tag));
      const down = group.filter((tag) => !running.some((s) => s.tag === tag));
      const lists = await Promise.all(
        running.map(async (s) => ({
          tag: s.tag,
          response: await ask(s.url, { type: "list-documents", database: record.name }),
        })),
      );
      const states = lists.map(({ tag, response }) => ({
        tag,
        documents: response.ok
          ? (response.result as DocumentView[])
              .map((doc) => `${doc.id}@${doc.metadata["@change-vector"]}`)
              .sort()
              .join("\n")
          : null,
        count: response.ok ? (response.result as DocumentView[]).length : 0,
      }));
      const agree =
        states.length > 0 &&
        states.every((s) => s.documents !== null && s.documents === states[0]!.documents);
      const elapsed = Math.round(cluster.nowMs() - started);
      const downNote = down.length > 0 ? ` (${down.join(", ")} down, not waited for)` : "";
      if (agree) {
        const who =
          states.length === 1
            ? `${states[0]!.tag} (the only running instance) holds`
            : `${states.map((s) => s.tag).join(", ")} hold the same`;
        return done(
          `${record.name}: ${who} ${states[0]!.count} documents (after ${elapsed} ms)${downNote}`,
        );
      }
      last = states
        .map(
          (s) =>
            `${s.tag} has ${s.documents === null ? "no instance yet" : `${s.count} documents`}`,
        )
        .join(", ");
      if (elapsed >= timeoutMs)
        return failed(
          `wait-replication: ${record.name} did not converge within ${timeoutMs} ms: ${last}${downNote}`,
        );
      await cluster.runFor(Math.min(50, timeoutMs - elapsed));
    }
  }

  async function run(name: string, args: string[], line: string): Promise<CommandResult> {
    switch (name) {
      case "help": {
        if (args[0]) {
          const spec = commandSpecs[args[0]];
          if (!spec) throw new UsageError(`help: no command "${args[0]}"`);
          return done(`${spec.usage}\n  ${spec.summary}`);
        }
        const width = Math.max(...Object.values(commandSpecs).map((s) => s.usage.length));
        return done(
          Object.values(commandSpecs)
            .map((s) => `${s.usage.padEnd(width)}  ${s.summary}`)
            .join("\n"),
        );
      }
      case "quit":
      case "exit":
        return { text: "bye", ok: true, quit: true };
      case "add-server": {
        if (args.length > 0) usage(name);
        const url = await cluster.addServer();
        return done(`started ${url} (tag ?); add it with: add-node ${url}`);
      }
      case "add-node": {
        if (args.length !== 1) usage(name);
        const response = await ask(coordinator(), { type: "add-node", url: args[0]! });
        if (!response.ok) return failed(`add-node: ${errorText(response)}`);
        const { message, tag } = response.result as { message?: string; tag?: string };
        // The new node shows its tag once it hears from the leader; wait for that, so the next
        // command can already name it (as the Studio shows it once it joined).
        await cluster
          .waitFor((c) => c.servers.some((s) => s.tag === tag), {
            timeoutMs: requestTimeoutMs,
            what: `node ${tag ?? "?"} to show its tag`,
          })
          .catch(() => {});
        return done(message ?? "added");
      }
      case "kill":
      case "restart": {
        if (args.length !== 1) usage(name);
        const url = server(name, args[0]!);
        const tag = cluster.servers.find((s) => s.url === url)!.tag;
        if (name === "kill") await cluster.kill(url);
        else await cluster.restart(url);
        return done(
          `${name === "kill" ? "killed" : "restarted"} ${tag === "?" ? url : `${tag} (${url})`}`,
        );
      }
      case "partition": {
        if (args.length !== 2) usage(name);
        const a = group(name, args[0]);
        const b = group(name, args[1]);
        const overlap = a.filter((x) => b.includes(x));
        if (overlap.length > 0)
          throw new UsageError(`partition: ${overlap.join(", ")} cannot be on both sides`);
        cluster.partition(a, b);
        return done(`partitioned ${a.join(", ")} from ${b.join(", ")}`);
      }
      case "isolate": {
        if (args.length !== 1) usage(name);
        cluster.isolate(server(name, args[0]!));
        return done(`isolated ${args[0]}`);
      }
      case "heal": {
        if (args.length > 0) usage(name);
        cluster.heal();
        return done("healed: every link is up");
      }
      case "create-database": {
        const [database, flag, value, ...extra] = args;
        if (
          !database ||
          database.startsWith("--") ||
          extra.length > 0 ||
          (flag !== undefined && value === undefined)
        )
          usage(name);
        let request: ServerRequest = { type: "create-database", name: database! };
        if (flag === "--factor")
          request = { ...request, replicationFactor: wholeNumber(name, "--factor", value, 1) };
        else if (flag === "--nodes")
          request = {
            ...request,
            nodes: value!
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s.length > 0),
          };
        else if (flag !== undefined)
          throw new UsageError(
            `create-database: unknown option ${flag}; use --factor N or --nodes A,B`,
          );
        const response = await ask(coordinator(), request);
        if (!response.ok) return failed(`create-database: ${errorText(response)}`);
        const { message, nodes } = response.result as { message?: string; nodes?: string[] };
        await untilKnownOn(database!, nodes ?? []);
        return done(message ?? "created");
      }
      case "add-db-node": {
        if (args.length < 1 || args.length > 2) usage(name);
        const request: ServerRequest = {
          type: "add-database-node",
          database: args[0]!,
          ...(args[1] ? { tag: args[1] } : {}),
        };
        const response = await ask(coordinator(), request);
        return response.ok
          ? done((response.result as { message?: string }).message ?? "added")
          : failed(`add-db-node: ${errorText(response)}`);
      }
      case "put": {
        const [, target, database, id, json] = tokens(line, 4);
        if (!target || !database || !id || json === undefined) usage(name);
        let body: unknown;
        try {
          body = JSON.parse(json!);
        } catch (error) {
          throw new UsageError(
            `put: the document is not valid JSON (${error instanceof Error ? error.message : String(error)}): ${json}`,
          );
        }
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          throw new UsageError(
            `put: the document must be a JSON object, got ${describeJson(body)}`,
          );
        }
        const url = server(name, target!);
        const response = await ask(url, {
          type: "batch",
          database: database!,
          transaction: { puts: [{ id: id!, body }] },
        });
        if (!response.ok) return failed(`put: ${errorText(response)}`);
        const written = (
          response.result as { written?: { id: string; etag: number; changeVector: string }[] }
        ).written?.[0];
        return done(
          written
            ? `stored ${written.id} (etag ${written.etag}, change vector ${written.changeVector})`
            : `stored ${id}`,
        );
      }
      case "get": {
        if (args.length !== 3) usage(name);
        const [target, database, id] = args as [string, string, string];
        const response = await ask(server(name, target), {
          type: "get-documents",
          database,
          ids: [id],
        });
        if (!response.ok) return failed(`get: ${errorText(response)}`);
        const doc = (response.result as (DocumentView | null)[])[0];
        if (!doc) return failed(`${id} not found on ${target} in ${database}`);
        return done(JSON.stringify({ ...doc.body, "@metadata": doc.metadata }, null, 2));
      }
      case "delete": {
        if (args.length !== 3) usage(name);
        const [target, database, id] = args as [string, string, string];
        const response = await ask(server(name, target), {
          type: "batch",
          database,
          transaction: { deletes: [{ id }] },
        });
        return response.ok
          ? done(`deleted ${id} on ${target}`)
          : failed(`delete: ${errorText(response)}`);
      }
      case "list": {
        if (args.length !== 2) usage(name);
        const [target, database] = args as [string, string];
        const response = await ask(server(name, target), { type: "list-documents", database });
        return response.ok
          ? done(renderDocumentList(response.result as DocumentView[]))
          : failed(`list: ${errorText(response)}`);
      }
      case "cluster": {
        if (args.length > 0) usage(name);
        const description = cluster.describe();
        return done(`${renderCluster(description)}\n\n${renderDatabases(description)}`);
      }
      case "documents": {
        if (args.length > 0) usage(name);
        return done(renderDocuments(cluster.describe()));
      }
      case "topology": {
        if (args.length !== 1) usage(name);
        const response = await ask(coordinator(), {
          type: "database-topology",
          database: args[0]!,
        });
        return response.ok
          ? done(renderTopology(response.result as TopologyView))
          : failed(`topology: ${errorText(response)}`);
      }
      case "leader": {
        if (args.length > 0) usage(name);
        const description = cluster.describe();
        if (description.leader === null) {
          const running = description.cluster.filter((s) => s.alive).length;
          return done(
            `no leader: no running server leads (${running} of ${description.cluster.length} running)`,
          );
        }
        const url = description.cluster.find((s) => s.tag === description.leader)?.url ?? "";
        return done(`leader: ${description.leader} (${url}), term ${description.term}`);
      }
      case "wait-replication": {
        const [database, flag, value, ...extra] = args;
        if (!database || extra.length > 0 || (flag !== undefined && flag !== "--timeout"))
          usage(name);
        const timeoutMs = flag ? wholeNumber(name, "--timeout", value, 1) : waitTimeoutMs;
        return await waitReplication(database!, timeoutMs);
      }
      case "trace": {
        if (args.length !== 1 || (args[0] !== "on" && args[0] !== "off")) usage(name);
        unsubscribe?.();
        unsubscribe = undefined;
        if (args[0] === "on") {
          unsubscribe = cluster.on("trace", (events: readonly TraceEvent[]) => {
            for (const event of events) print(`[trace] ${renderTrace(event)}`);
          });
        }
        return done(`trace ${args[0]}`);
      }
      default: {
        const near = Object.keys(commandSpecs).filter(
          (known) => distance(known, name) <= 2 || known.startsWith(name),
        );
        return failed(
          `unknown command "${name}".${near.length > 0 ? ` Did you mean ${near.join(" or ")}?` : ""} Type help for the list.`,
        );
      }
    }
  }

  return {
    names: [...Object.keys(commandSpecs), "exit"],
    async execute(line: string): Promise<CommandResult> {
      const args = tokens(line);
      const name = args.shift();
      if (name === undefined || name.startsWith("#")) return done("");
      try {
        return await run(name, args, line);
      } catch (error) {
        if (error instanceof UsageError) return failed(error.message);
        if (isRookeryError(error)) return failed(`${name}: ${error.message}`);
        throw error;
      }
    },
    dispose(): void {
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}
