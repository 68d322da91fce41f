/**
 * CommandRunner carries out the CLI's commands against one cluster: a method per command, and
 * the helpers they share (finding a server, the coordinator for cluster-wide operations, parsing
 * flags). commands.ts turns lines into calls of `run`.
 */
import { quote } from "../../core/index.ts";
import type { TraceEvent } from "../../server/index.ts";
import type {
  DocumentView,
  ServerRequest,
  ServerResponse,
  TopologyView,
} from "../../transport/index.ts";
import type { ClusterHandle } from "../handle.ts";
import {
  renderCluster,
  renderDatabases,
  renderDocumentList,
  renderDocuments,
  renderTopology,
  renderTrace,
} from "./render.ts";
import { commandSpecs, done, failed, tokens, UsageError } from "./syntax.ts";
import type { CommandResult } from "./syntax.ts";

/** RunnerOptions: where trace lines go and how long waits last (ms of the cluster's clock). */
export interface RunnerOptions {
  readonly print: (text: string) => void;
  readonly waitTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

type Command = (runner: CommandRunner, args: string[], line: string) => Promise<CommandResult>;

/** The commands by name; `exit` is `quit`. */
const commands: Readonly<Record<string, Command>> = {
  help: async (r, args) => r.help(args),
  quit: async () => ({ text: "bye", ok: true, quit: true }),
  exit: async () => ({ text: "bye", ok: true, quit: true }),
  "add-server": (r, args) => r.addServer(args),
  "add-node": (r, args) => r.addNode(args),
  kill: (r, args) => r.killOrRestart("kill", args),
  restart: (r, args) => r.killOrRestart("restart", args),
  partition: async (r, args) => r.partition(args),
  isolate: async (r, args) => r.isolate(args),
  heal: async (r, args) => r.heal(args),
  "create-database": (r, args) => r.createDatabase(args),
  "add-db-node": (r, args) => r.addDatabaseNode(args),
  put: (r, _args, line) => r.put(line),
  get: (r, args) => r.get(args),
  delete: (r, args) => r.delete(args),
  list: (r, args) => r.list(args),
  cluster: async (r, args) => r.clusterScreen(args),
  documents: async (r, args) => r.documents(args),
  topology: (r, args) => r.topology(args),
  leader: async (r, args) => r.leader(args),
  "wait-replication": (r, args) => r.waitReplicationCommand(args),
  trace: async (r, args) => r.trace(args),
};

/** hasCommand tells whether `name` is a command (for "did you mean"). */
export function hasCommand(name: string): boolean {
  return Object.hasOwn(commands, name);
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function errorText(response: Extract<ServerResponse, { ok: false }>): string {
  return `${response.error.code}: ${response.error.message}`;
}

export class CommandRunner {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly cluster: ClusterHandle,
    private readonly options: RunnerOptions,
  ) {}

  /** run carries out command `name`; undefined when there is no such command. */
  run(name: string, args: string[], line: string): Promise<CommandResult> | undefined {
    return hasCommand(name) ? commands[name]!(this, args, line) : undefined;
  }

  /** dispose stops the trace subscription, if any. */
  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  // --- commands ------------------------------------------------------------------------------------

  help(args: string[]): CommandResult {
    if (args[0]) {
      const spec = Object.hasOwn(commandSpecs, args[0]) ? commandSpecs[args[0]] : undefined;
      if (!spec) throw new UsageError(`help: no command ${quote(args[0])}`);
      return done(`${spec.usage}\n  ${spec.summary}`);
    }
    const width = Math.max(...Object.values(commandSpecs).map((s) => s.usage.length));
    return done(
      Object.values(commandSpecs)
        .map((s) => `${s.usage.padEnd(width)}  ${s.summary}`)
        .join("\n"),
    );
  }

  async addServer(args: string[]): Promise<CommandResult> {
    if (args.length > 0) this.usage("add-server");
    const url = await this.cluster.addServer();
    return done(`started ${url} (tag ?); add it with: add-node ${url}`);
  }

  async addNode(args: string[]): Promise<CommandResult> {
    if (args.length !== 1) this.usage("add-node");
    const response = await this.ask(this.coordinator(), { type: "add-node", url: args[0]! });
    if (!response.ok) return failed(`add-node: ${errorText(response)}`);
    const { message, tag } = response.result as { message?: string; tag?: string };
    // The new node shows its tag once it hears from the leader; wait for that, so the next
    // command can already name it (as the Studio shows it once it joined).
    await this.cluster
      .waitFor((c) => c.servers.some((s) => s.tag === tag), {
        timeoutMs: this.options.requestTimeoutMs,
        what: `node ${tag ?? "?"} to show its tag`,
      })
      .catch(() => {});
    return done(message ?? "added");
  }

  async killOrRestart(name: "kill" | "restart", args: string[]): Promise<CommandResult> {
    if (args.length !== 1) this.usage(name);
    const url = this.server(name, args[0]!);
    const tag = this.cluster.servers.find((s) => s.url === url)!.tag;
    if (name === "kill") await this.cluster.kill(url);
    else await this.cluster.restart(url);
    return done(
      `${name === "kill" ? "killed" : "restarted"} ${tag === "?" ? url : `${tag} (${url})`}`,
    );
  }

  partition(args: string[]): CommandResult {
    if (args.length !== 2) this.usage("partition");
    const a = this.group("partition", args[0]);
    const b = this.group("partition", args[1]);
    const overlap = a.filter((x) => b.includes(x));
    if (overlap.length > 0)
      throw new UsageError(`partition: ${overlap.join(", ")} cannot be on both sides`);
    this.cluster.partition(a, b);
    return done(`partitioned ${a.join(", ")} from ${b.join(", ")}`);
  }

  isolate(args: string[]): CommandResult {
    if (args.length !== 1) this.usage("isolate");
    this.cluster.isolate(this.server("isolate", args[0]!));
    return done(`isolated ${args[0]}`);
  }

  heal(args: string[]): CommandResult {
    if (args.length > 0) this.usage("heal");
    this.cluster.heal();
    return done("healed: every link is up");
  }

  async createDatabase(args: string[]): Promise<CommandResult> {
    const name = "create-database";
    const [database, flag, value, ...extra] = args;
    if (
      !database ||
      database.startsWith("--") ||
      extra.length > 0 ||
      (flag !== undefined && value === undefined)
    )
      this.usage(name);
    let request: ServerRequest = { type: "create-database", name: database! };
    if (flag === "--factor")
      request = { ...request, replicationFactor: this.wholeNumber(name, "--factor", value, 1) };
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
    const response = await this.ask(this.coordinator(), request);
    if (!response.ok) return failed(`create-database: ${errorText(response)}`);
    const { message, nodes } = response.result as { message?: string; nodes?: string[] };
    await this.untilKnownOn(database!, nodes ?? []);
    return done(message ?? "created");
  }

  async addDatabaseNode(args: string[]): Promise<CommandResult> {
    if (args.length < 1 || args.length > 2) this.usage("add-db-node");
    const request: ServerRequest = {
      type: "add-database-node",
      database: args[0]!,
      ...(args[1] ? { tag: args[1] } : {}),
    };
    const response = await this.ask(this.coordinator(), request);
    return response.ok
      ? done((response.result as { message?: string }).message ?? "added")
      : failed(`add-db-node: ${errorText(response)}`);
  }

  async put(line: string): Promise<CommandResult> {
    const [, target, database, id, json] = tokens(line, 4);
    if (!target || !database || !id || json === undefined) this.usage("put");
    let body: unknown;
    try {
      body = JSON.parse(json!);
    } catch (error) {
      throw new UsageError(
        `put: the document is not valid JSON (${error instanceof Error ? error.message : String(error)}): ${json}`,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new UsageError(`put: the document must be a JSON object, got ${describeJson(body)}`);
    }
    const url = this.server("put", target!);
    const response = await this.ask(url, {
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

  async get(args: string[]): Promise<CommandResult> {
    if (args.length !== 3) this.usage("get");
    const [target, database, id] = args as [string, string, string];
    const response = await this.ask(this.server("get", target), {
      type: "get-documents",
      database,
      ids: [id],
    });
    if (!response.ok) return failed(`get: ${errorText(response)}`);
    const doc = (response.result as (DocumentView | null)[])[0];
    if (!doc) return failed(`${id} not found on ${target} in ${database}`);
    return done(JSON.stringify({ ...doc.body, "@metadata": doc.metadata }, null, 2));
  }

  async delete(args: string[]): Promise<CommandResult> {
    if (args.length !== 3) this.usage("delete");
    const [target, database, id] = args as [string, string, string];
    const response = await this.ask(this.server("delete", target), {
      type: "batch",
      database,
      transaction: { deletes: [{ id }] },
    });
    return response.ok
      ? done(`deleted ${id} on ${target}`)
      : failed(`delete: ${errorText(response)}`);
  }

  async list(args: string[]): Promise<CommandResult> {
    if (args.length !== 2) this.usage("list");
    const [target, database] = args as [string, string];
    const response = await this.ask(this.server("list", target), {
      type: "list-documents",
      database,
    });
    return response.ok
      ? done(renderDocumentList(response.result as DocumentView[]))
      : failed(`list: ${errorText(response)}`);
  }

  clusterScreen(args: string[]): CommandResult {
    if (args.length > 0) this.usage("cluster");
    const description = this.cluster.describe();
    return done(`${renderCluster(description)}\n\n${renderDatabases(description)}`);
  }

  documents(args: string[]): CommandResult {
    if (args.length > 0) this.usage("documents");
    return done(renderDocuments(this.cluster.describe()));
  }

  async topology(args: string[]): Promise<CommandResult> {
    if (args.length !== 1) this.usage("topology");
    const response = await this.ask(this.coordinator(), {
      type: "database-topology",
      database: args[0]!,
    });
    return response.ok
      ? done(renderTopology(response.result as TopologyView))
      : failed(`topology: ${errorText(response)}`);
  }

  leader(args: string[]): CommandResult {
    if (args.length > 0) this.usage("leader");
    const description = this.cluster.describe();
    if (description.leader === null) {
      const running = description.cluster.filter((s) => s.alive).length;
      return done(
        `no leader: no running server leads (${running} of ${description.cluster.length} running)`,
      );
    }
    const url = description.cluster.find((s) => s.tag === description.leader)?.url ?? "";
    return done(`leader: ${description.leader} (${url}), term ${description.term}`);
  }

  async waitReplicationCommand(args: string[]): Promise<CommandResult> {
    const name = "wait-replication";
    const [database, flag, value, ...extra] = args;
    if (!database || extra.length > 0 || (flag !== undefined && flag !== "--timeout"))
      this.usage(name);
    const timeoutMs = flag
      ? this.wholeNumber(name, "--timeout", value, 1)
      : this.options.waitTimeoutMs;
    return await this.waitReplication(database!, timeoutMs);
  }

  trace(args: string[]): CommandResult {
    if (args.length !== 1 || (args[0] !== "on" && args[0] !== "off")) this.usage("trace");
    this.dispose();
    if (args[0] === "on") {
      this.unsubscribe = this.cluster.on("trace", (events: readonly TraceEvent[]) => {
        for (const event of events) this.options.print(`[trace] ${renderTrace(event)}`);
      });
    }
    return done(`trace ${args[0]}`);
  }

  // --- helpers -------------------------------------------------------------------------------------

  private usage(name: string): never {
    throw new UsageError(`usage: ${commandSpecs[name]!.usage}`);
  }

  /** server finds a server by tag or URL, with a message listing them when there is none. */
  private server(name: string, tagOrUrl: string): string {
    const servers = this.cluster.servers;
    const found = servers.find((s) => s.tag === tagOrUrl || s.url === tagOrUrl);
    if (found) return found.url;
    const known = servers.map((s) => `${s.tag} (${s.url})`).join(", ");
    const joining = servers.some((s) => s.tag === "?")
      ? " (a server shows its tag once it joined; name a ? server by its URL)"
      : "";
    throw new UsageError(
      `${name}: no server ${quote(tagOrUrl)}; the servers are ${known}${joining}`,
    );
  }

  /** coordinator is where cluster-wide operations go: the leader if any, else the first running server. */
  private coordinator(): string {
    const running = this.cluster.servers.filter((s) => s.alive);
    const leader = running.find((s) => s.role === "leader");
    const first = leader ?? running[0];
    if (!first) throw new UsageError("every server is down; restart one first");
    return first.url;
  }

  private ask(url: string, request: ServerRequest): Promise<ServerResponse> {
    return this.cluster.network.request(url, request, {
      timeoutMs: this.options.requestTimeoutMs,
    });
  }

  private group(name: string, value: string | undefined): string[] {
    if (!value) this.usage(name);
    const members = value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (members.length === 0) this.usage(name);
    for (const member of members) this.server(name, member);
    return members;
  }

  /** wholeNumber parses a flag's value as a whole number of at least `min`. */
  private wholeNumber(name: string, flag: string, value: string | undefined, min: number): number {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min) {
      throw new UsageError(
        `${name}: ${flag} needs a whole number of at least ${min}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`,
      );
    }
    return n;
  }

  /**
   * untilKnownOn waits (briefly) until the running servers among `tags` have applied a new
   * database, so the next command can use it there; the leader answered once it applied it.
   */
  private async untilKnownOn(database: string, tags: readonly string[]): Promise<void> {
    const deadline = this.cluster.nowMs() + this.options.requestTimeoutMs;
    for (const tag of tags) {
      const url = this.cluster.servers.find((s) => s.tag === tag && s.alive)?.url;
      while (url && this.cluster.nowMs() < deadline) {
        const response = await this.ask(url, { type: "database-status", database });
        if (response.ok || response.error.code !== "DatabaseDoesNotExist") break;
        await this.cluster.runFor(20);
      }
    }
  }

  private async waitReplication(database: string, timeoutMs: number): Promise<CommandResult> {
    const started = this.cluster.nowMs();
    for (;;) {
      const record = this.cluster
        .describe()
        .databases.find((db) => db.name.toLowerCase() === database.toLowerCase());
      if (!record)
        return failed(
          `wait-replication: no database ${quote(database)} in the cluster (as far as the running servers know)`,
        );
      const group = [...record.members, ...record.promotables, ...record.rehabs];
      const running = this.cluster.servers.filter((s) => s.alive && group.includes(s.tag));
      const down = group.filter((tag) => !running.some((s) => s.tag === tag));
      const states = await Promise.all(
        running.map(async (s) =>
          documentState(
            s.tag,
            await this.ask(s.url, { type: "list-documents", database: record.name }),
          ),
        ),
      );
      const agree =
        states.length > 0 &&
        states.every((s) => s.documents !== null && s.documents === states[0]!.documents);
      const elapsed = Math.round(this.cluster.nowMs() - started);
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
      if (elapsed >= timeoutMs) {
        const last = states
          .map(
            (s) =>
              `${s.tag} has ${s.documents === null ? "no instance yet" : `${s.count} documents`}`,
          )
          .join(", ");
        return failed(
          `wait-replication: ${record.name} did not converge within ${timeoutMs} ms: ${last}${downNote}`,
        );
      }
      await this.cluster.runFor(Math.min(50, timeoutMs - elapsed));
    }
  }
}

/** documentState is one instance's documents as wait-replication compares them. */
function documentState(
  tag: string,
  response: ServerResponse,
): { tag: string; documents: string | null; count: number } {
  const docs = response.ok ? (response.result as DocumentView[]) : null;
  return {
    tag,
    documents: docs
      ? docs
          .map((doc) => `${doc.id}@${doc.metadata["@change-vector"]}`)
          .sort()
          .join("\n")
      : null,
    count: docs ? docs.length : 0,
  };
}
