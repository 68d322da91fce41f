/**
 * rookery serve: real servers in the foreground, one operating-system process each, on real HTTP
 * addresses that RavenDB's own client (or curl) can talk to. Two forms:
 * - a cluster on this machine: --servers N on http://127.0.0.1:8080, http://127.0.0.2:8080 …
 *   (--ports: http://127.0.0.1:8080, :8081 …), one folder each under --data-dir;
 * - one server alone: --node-url URL --data-dir DIR, so servers on several machines can form one
 *   cluster (add each by URL from any of them). A public address needs --unsecured-public.
 * It prints a table of tags, URLs and folders, then the cluster's events; Ctrl-C stops every
 * server (queued writes finish, sockets and files close) before it exits.
 */
import { isIP } from "node:net";
import { quote } from "../../engine/core/index.ts";
import type { TraceEvent } from "../../engine/index.ts";
import { renderTrace, table } from "../../engine/runtime/cli/render.ts";
import { serverFoldersWithData } from "../../engine/runtime/host/node-platform.ts";
import { defaultPort } from "../../engine/runtime/process/addresses.ts";
import { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { ProcessServer } from "../../engine/runtime/process/process-server.ts";
import { seedMax, UsageError } from "../command.ts";
import type { Args, CommandSpec, Output } from "../command.ts";
import { onStop } from "../signals.ts";
import { userPath } from "../where.ts";

/** isLoopback tells whether a host name or address only ever reaches this machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1";
}

/**
 * The events worth a line while serving: who leads, groups that change, a server that died. (The
 * table already says which servers started.)
 */
function shown(event: TraceEvent): boolean {
  return (
    event.type === "role" ||
    event.type === "topology-change" ||
    (event.type === "server" && !event.text.startsWith("started"))
  );
}

function waitForever(): Promise<never> {
  return new Promise<never>(() => {});
}

/** nodeUrl reads --node-url: an http URL with a host and a port. */
function nodeUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--node-url needs a URL like http://127.0.0.1:8080, got ${quote(raw)}`);
  }
  if (url.protocol !== "http:")
    throw new UsageError(
      `--node-url ${quote(raw)}: only http:// is served (Rookery has no certificates)`,
    );
  if (url.pathname !== "/" || url.search || url.hash || url.username)
    throw new UsageError(`--node-url ${quote(raw)} must be just http://HOST:PORT`);
  return url;
}

async function serveOne(args: Args, out: Output): Promise<number> {
  const url = nodeUrl(args.string("node-url")!);
  const dataDir = args.string("data-dir");
  if (dataDir === undefined || dataDir === "")
    throw new UsageError("--node-url needs --data-dir: the folder this server keeps its data in");
  if (args.has("servers") || args.flag("ports") || args.has("port") || args.flag("fresh"))
    throw new UsageError(
      "--servers, --ports, --port and --fresh start a cluster on this machine; --node-url starts one server",
    );
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 80);
  const publicAddress = !isLoopback(host);
  if (publicAddress && !args.flag("unsecured-public"))
    throw new UsageError(
      `${url.origin} is not a loopback address: anyone who can reach it could read and change every database, ` +
        "since Rookery has no authentication. Add --unsecured-public to serve it anyway (as RavenDB's " +
        "unsecured mode refuses public addresses unless told otherwise).",
    );
  if (publicAddress)
    out.stderr.write(
      `WARNING: serving ${url.origin} without authentication or encryption. Every client that can ` +
        "reach this address can read, change and delete every database. Use it only on a network you trust.\n",
    );
  const folder = userPath(dataDir);
  const server = await ProcessServer.start(
    {
      url: url.origin,
      host,
      port,
      dataDir: folder,
      seed: args.whole("seed", { min: 0, max: seedMax }) ?? 1,
    },
    {
      trace: (event) => {
        if (shown(event)) out.stdout.write(`${renderTrace(event)}\n`);
      },
    },
  );
  const tag = server.server.tag;
  out.stdout.write(
    [
      `rookery serve: one server, fs storage in ${folder}`,
      "",
      table(["tag", "url", "data folder"], [[tag, url.origin, folder]]),
      "",
      tag === "?"
        ? "A fresh server (tag ?): create a database on it, or add it to a cluster by its URL from any member."
        : `Recovered as node ${tag}.`,
      "Ctrl-C stops the server.",
      "",
    ].join("\n"),
  );
  onStop(async (reason) => {
    out.stderr.write(`\n${reason}: stopping the server\n`);
    await server.close();
  });
  return await waitForever();
}

async function serveCluster(args: Args, out: Output): Promise<number> {
  if (args.flag("unsecured-public"))
    throw new UsageError(
      "--unsecured-public goes with --node-url; a cluster on this machine listens on loopback only",
    );
  const servers = args.whole("servers", { min: 1, max: 26 }) ?? 3;
  const port = args.whole("port", { min: 1, max: 65_535 }) ?? defaultPort;
  const dataDirArg = args.string("data-dir");
  if (dataDirArg === "") throw new UsageError("--data-dir needs a folder");
  const dataDir = dataDirArg === undefined ? undefined : userPath(dataDirArg);
  const fresh = args.flag("fresh");
  if (fresh && dataDir === undefined)
    throw new UsageError("--fresh wipes the folders of --data-dir; without it servers start fresh");
  const found = dataDir !== undefined && !fresh ? await serverFoldersWithData(dataDir) : [];
  const cluster = await ProcessCluster.start({
    servers,
    port,
    ...(args.flag("ports") ? { addresses: "ports" as const } : {}),
    ...(dataDir !== undefined ? { dataDir, fresh } : {}),
    seed: args.whole("seed", { min: 0, max: seedMax }) ?? 1,
  });
  const rows = cluster.folders().map((server) => [server.tag, server.url, server.dataDir]);
  out.stdout.write(
    [
      `rookery serve: ${rows.length} server${rows.length === 1 ? "" : "s"}, one process each, fs storage in ${cluster.dataDir}` +
        (dataDir === undefined ? " (removed when they stop)" : "") +
        (found.length > 0 ? `; ${found.length} recovered from an earlier run` : ""),
      "",
      table(["tag", "url", "data folder"], rows),
      "",
      `Try: curl ${cluster.urls[0]}/cluster/topology`,
      "Ctrl-C stops every server.",
      "",
    ].join("\n"),
  );
  cluster.on("trace", (events) => {
    for (const event of events) if (shown(event)) out.stdout.write(`${renderTrace(event)}\n`);
  });
  onStop(async (reason) => {
    out.stderr.write(`\n${reason}: stopping ${rows.length} servers\n`);
    await cluster.stop();
  });
  return await waitForever();
}

export const serveCommand: CommandSpec = {
  name: "serve",
  summary: "real servers on real HTTP addresses, for RavenDB's own client, curl, other machines",
  usage: [
    "[--servers N] [--data-dir DIR [--fresh]] [--ports] [--port P] [--seed S]",
    "--node-url URL --data-dir DIR [--unsecured-public]",
  ],
  description: [
    "Starts servers in the foreground, each its own operating-system process, speaking the part",
    "of RavenDB's REST protocol the chapter needs, so RavenDB's Node client works against them",
    "unchanged. Servers reach each other over their own sockets.",
    "",
    "With --servers N (3 by default) they listen on http://127.0.0.1:8080, http://127.0.0.2:8080 …",
    "(Linux routes all of 127.0.0.0/8 to this machine), or with --ports on http://127.0.0.1:8080,",
    ":8081 … (macOS needs that, or an alias per address). Each keeps its data in DIR/1, DIR/2 …;",
    "over folders an earlier run left, the servers recover, and --fresh wipes them first. Without",
    "--data-dir a temporary folder is used and removed at the end. Every server starts fresh",
    "(tag ?): the first database created, or node added, makes a cluster, as in the chapter.",
    "",
    "With --node-url one server starts alone, so servers on different machines can form one",
    "cluster: start one on each, then add the others by URL from any of them. Rookery has no",
    "authentication, so an address other than loopback needs --unsecured-public and a warning.",
    "",
    "Ctrl-C (or SIGTERM) stops every server cleanly before the command exits.",
  ].join("\n"),
  options: {
    servers: { type: "string", value: "N", help: "servers to start on this machine, 1 to 26" },
    "data-dir": { type: "string", value: "DIR", help: "keep the servers' data here" },
    fresh: { type: "boolean", help: "with --data-dir: wipe an earlier run's servers first" },
    ports: {
      type: "boolean",
      help: "one address, consecutive ports (127.0.0.1:8080, :8081 …)",
    },
    port: { type: "string", value: "P", help: "the port (the first one with --ports); 8080" },
    "node-url": {
      type: "string",
      value: "URL",
      help: "start one server alone at this URL (with --data-dir)",
    },
    "unsecured-public": {
      type: "boolean",
      help: "with --node-url: serve an address other than loopback, unauthenticated",
    },
    seed: { type: "string", value: "S", help: "the seed of the servers' randomness (default 1)" },
  },
  examples: [
    { command: "rookery serve --servers 5", what: "127.0.0.1 … 127.0.0.5, port 8080" },
    {
      command: "rookery serve --servers 3 --data-dir ./data",
      what: "kept in ./data/1, ./data/2 …",
    },
    { command: "rookery serve --servers 3 --ports", what: "127.0.0.1:8080, :8081, :8082" },
    {
      command: "rookery serve --node-url http://127.0.0.1:8080 --data-dir ./a",
      what: "one server, alone",
    },
    {
      command:
        "rookery serve --node-url http://192.168.1.20:8080 --data-dir ./a --unsecured-public",
      what: "one server for other machines to join",
    },
  ],

  async run(args: Args, out: Output): Promise<number> {
    if (args.has("node-url")) return await serveOne(args, out);
    return await serveCluster(args, out);
  },
};
