/**
 * The CLI's syntax: every command with its usage and summary (help and usage errors print them),
 * what a command answers, and how a line splits into words.
 */

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

/** UsageError is a bad command line; its message is shown as is. */
export class UsageError extends Error {}

export const done = (text: string): CommandResult => ({ text, ok: true });
export const failed = (text: string): CommandResult => ({ text, ok: false });

/** tokens splits a line on white space, keeping the rest of the line from token `keep` on whole. */
export function tokens(line: string, keep = Infinity): string[] {
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
