import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "../../engine/index.ts";
import type { ClusterHandle } from "../../engine/index.ts";
import { createInterpreter } from "../../engine/runtime/cli/commands.ts";
import type { Interpreter } from "../../engine/runtime/cli/commands.ts";

let cluster: ClusterHandle | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function cli(servers = 2): Promise<{
  run: (line: string) => Promise<string>;
  fails: (line: string) => Promise<string>;
  printed: string[];
  interpreter: Interpreter;
}> {
  cluster = await Cluster.start({ runtime: "sim", servers, seed: 5 });
  const printed: string[] = [];
  const interpreter = createInterpreter(cluster, { print: (text) => printed.push(text) });
  return {
    printed,
    interpreter,
    run: async (line) => {
      const result = await interpreter.execute(line);
      if (!result.ok) throw new Error(`${line} → ${result.text}`);
      return result.text;
    },
    fails: async (line) => {
      const result = await interpreter.execute(line);
      if (result.ok) throw new Error(`${line} succeeded: ${result.text}`);
      return result.text;
    },
  };
}

describe("the CLI's commands against a sim cluster", () => {
  it("plays the chapter: create Spade, put, add B, add it to the group, wait, read on B, kill A, write on B", async () => {
    const { run } = await cli();
    expect(await run("cluster")).toMatch(/http:\/\/127\.0\.0\.1:8080\s+\?\s+passive/);
    expect(await run("create-database Spade")).toBe("database 'Spade' created on A");
    expect(await run('put A Spade users/1 {"name": "Oren", "tags": ["a b"]}')).toMatch(
      /^stored users\/1 \(etag 1, change vector A:1-/,
    );
    expect(await run("add-node http://127.0.0.2:8080")).toContain("joined the cluster as B");
    expect(await run("add-db-node Spade B")).toContain("B added to 'Spade' as a promotable");
    expect(await run("wait-replication Spade")).toMatch(/^Spade: A, B hold the same 1 documents/);
    expect(JSON.parse(await run("get B Spade users/1"))).toMatchObject({
      name: "Oren",
      tags: ["a b"],
      "@metadata": { "@collection": "Users" },
    });
    expect(await run("list http://127.0.0.2:8080 Spade")).toMatch(
      /users\/1\s+A:1-\S+\s+\{"name":"Oren","tags":\["a b"\]\}/,
    );
    expect(await run("topology Spade")).toMatch(
      /A\s+http:\/\/127\.0\.0\.1:8080\s+member \(preferred\)/,
    );
    expect(await run("leader")).toMatch(/^leader: A \(http:\/\/127\.0\.0\.1:8080\), term \d+$/);
    expect(await run("kill A")).toBe("killed A (http://127.0.0.1:8080)");
    await cluster!.runFor(2_000);
    expect(await run("leader")).toBe("no leader: no running server leads (1 of 2 running)");
    await run('put B Spade users/3 {"name":"without a leader"}');
    expect(await run("delete B Spade users/1")).toBe("deleted users/1 on B");
    expect(await run("documents")).toMatch(/B\s+Spade\s+users\/3/);
    expect(await run("restart A")).toBe("restarted A (http://127.0.0.1:8080)");
    expect(await run("wait-replication Spade --timeout 20000")).toMatch(
      /^Spade: A, B hold the same 1 documents/,
    );
    expect(await run("cluster")).toMatch(/database\s+members \(preferred first\)/);
  });

  it("partitions, heals, adds servers and databases by factor or nodes, and streams trace lines", async () => {
    const { run, printed } = await cli(3);
    expect(await run("add-server")).toBe(
      "started http://127.0.0.4:8080 (tag ?); add it with: add-node http://127.0.0.4:8080",
    );
    for (const n of [2, 3, 4]) await run(`add-node http://127.0.0.${n}:8080`);
    expect(await run("trace on")).toBe("trace on");
    expect(await run("create-database Pitchfork --factor 3")).toMatch(
      /Pitchfork' created on [A-D], [A-D], [A-D]/,
    );
    expect(await run("create-database Shed --nodes C,D")).toMatch(/Shed' created on C, D/);
    expect(
      printed.some((line) => line.startsWith("[trace] ") && line.includes("createDatabase")),
    ).toBe(true);
    expect(await run("trace off")).toBe("trace off");
    const before = printed.length;
    expect(await run("partition A,B C,D")).toBe("partitioned A, B from C, D");
    await run('put C Shed tools/1 {"kind":"rake"}');
    expect(await run("wait-replication Shed")).toMatch(/C, D hold the same 1 documents/);
    expect(await run("isolate D")).toBe("isolated D");
    expect(await run("heal")).toBe("healed: every link is up");
    await cluster!.runFor(100);
    expect(printed.length).toBe(before); // trace off stopped the stream
  });

  it("answers unknown commands and bad arguments with a clear message, and help explains", async () => {
    const { run, fails } = await cli();
    expect(await fails("frobnicate")).toBe('unknown command "frobnicate". Type help for the list.');
    expect(await fails("pt A x y {}")).toBe(
      'unknown command "pt". Did you mean put or get? Type help for the list.',
    );
    expect(await fails("put A Spade users/1 [1, 2]")).toBe(
      "put: the document must be a JSON object, got an array",
    );
    expect(await fails("put A Spade users/1 42")).toBe(
      "put: the document must be a JSON object, got number 42",
    );
    expect(await fails("put A Spade users/1 {name: 1}")).toMatch(
      /^put: the document is not valid JSON \(.+\): \{name: 1\}$/,
    );
    expect(await fails("put A Spade")).toBe("usage: put <tag|url> <database> <id> <json>");
    expect(await fails("get Q Spade users/1")).toMatch(
      /^get: no server "Q"; the servers are \? \(http:\/\/127\.0\.0\.1:8080\), \? \(http:\/\/127\.0\.0\.2:8080\)/,
    );
    expect(await fails("create-database Spade --factor zero")).toBe(
      'create-database: --factor needs a whole number of at least 1, got "zero"',
    );
    expect(await fails("create-database Spade --replicas 2")).toBe(
      "create-database: unknown option --replicas; use --factor N or --nodes A,B",
    );
    expect(await fails("create-database")).toBe(
      "usage: create-database <name> [--factor N | --nodes A,B]",
    );
    expect(await fails("partition A,B")).toBe("usage: partition <A,B> <C,D>");
    expect(await fails("trace maybe")).toBe("usage: trace on|off");
    expect(await fails("wait-replication Nowhere")).toMatch(/no database "Nowhere"/);
    expect(await fails("list http://127.0.0.1:8080 Nowhere")).toMatch(
      /^list: DatabaseDoesNotExist: /,
    );
    expect(await fails("restart http://127.0.0.1:8080")).toBe(
      "restart: http://127.0.0.1:8080 is running; kill it first",
    );
    expect(await fails("help nothing")).toBe('help: no command "nothing"');
    expect(await run("help put")).toBe(
      "put <tag|url> <database> <id> <json>\n  store a document on one server",
    );
    const help = await run("help");
    for (const command of [
      "add-server",
      "add-node",
      "kill",
      "restart",
      "partition",
      "heal",
      "create-database",
      "add-db-node",
      "put",
      "get",
      "delete",
      "list",
      "cluster",
      "topology",
      "leader",
      "wait-replication",
      "trace",
      "quit",
    ]) {
      expect(help).toContain(command);
    }
    expect(await run("")).toBe("");
    expect((await (await cli()).interpreter.execute("quit")).quit).toBe(true);
  });
});

describe("npm run cluster", () => {
  it("reads commands from a pipe and prints the answers; a failed command makes the exit code 1", () => {
    const input =
      'create-database Spade\nput A Spade users/1 {"name":"Oren"}\nget A Spade users/1\nleader\n';
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "cli/bin.ts", "cluster", "--runtime", "sim", "--servers", "1"],
      { input, encoding: "utf8" },
    );
    expect(out).toContain("rookery> create-database Spade\ndatabase 'Spade' created on A");
    expect(out).toContain('"name": "Oren"');
    expect(out).toMatch(/leader: A/);
    let status = 0;
    try {
      execFileSync(
        process.execPath,
        ["--import", "tsx", "cli/bin.ts", "cluster", "--runtime", "sim"],
        { input: "nonsense\n", encoding: "utf8", stdio: "pipe" },
      );
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(1);
    expect(() =>
      execFileSync(
        process.execPath,
        ["--import", "tsx", "cli/bin.ts", "cluster", "--servers", "0"],
        {
          encoding: "utf8",
          stdio: "pipe",
        },
      ),
    ).toThrow(/--servers needs a whole number/);
  });
});
