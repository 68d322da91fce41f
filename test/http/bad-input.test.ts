/**
 * Bad HTTP against a real server process: malformed JSON, a body over the limit (declared or
 * streamed), unknown routes, database names with ".." or "/", garbage instead of HTTP, and
 * clients that stop sending their headers or their body. Each gets a RavenDB-shaped JSON error
 * (Url, Type, Message, Error), and the server keeps serving.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProcessCluster } from "../../engine/runtime/process/process-cluster.ts";
import { isRunning, startProcesses } from "../runtime/process-helpers.ts";

const requestBytesMax = 64 * 1024;
const headersTimeoutMs = 1_000;
const requestTimeoutMs = 2_000;

let cluster: ProcessCluster;
let host: string;
let port: number;

beforeAll(async () => {
  cluster = await startProcesses({
    servers: 1,
    http: { requestBytesMax, headersTimeoutMs, requestTimeoutMs },
  });
  ({ hostname: host } = new URL(cluster.urls[0]!));
  port = cluster.port;
  const created = await fetch(`${cluster.urls[0]}/admin/databases?name=Spade`, {
    method: "PUT",
    body: JSON.stringify({ DatabaseName: "Spade" }),
  });
  expect(created.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

interface RawAnswer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  /** How long the server took to answer and close, in ms. */
  readonly ms: number;
}

/**
 * raw writes `parts` to a new connection (waiting `pauseMs` between them, and never ending its
 * side) and reads until the server closes it.
 */
function raw(parts: readonly string[], pauseMs = 0): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, host);
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: rest.join("\r\n\r\n"), ms: Date.now() - started });
    });
    socket.on("connect", async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (pauseMs > 0) await new Promise((done) => setTimeout(done, pauseMs));
      }
    });
  });
}

function ravenBody(body: string): Record<string, unknown> {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(expect.arrayContaining(["Url", "Type", "Message", "Error"]));
  return parsed;
}

async function stillServing(): Promise<void> {
  const response = await fetch(`${cluster.urls[0]}/cluster/topology`);
  expect(response.status).toBe(200);
  expect(isRunning(cluster.pid("A")!)).toBe(true);
}

const send = (method: string, path: string, body: string): string =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
const post = (path: string, body: string): string => send("POST", path, body);

describe("bad HTTP input against a server process", () => {
  it("malformed JSON is a 400 that says where the JSON broke", async () => {
    const response = await fetch(`${cluster.urls[0]}/databases/Spade/bulk_docs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"Commands": [ {"Id": "users/1", ',
    });
    expect(response.status).toBe(400);
    const body = ravenBody(await response.text());
    expect(body["Type"]).toBe("Raven.Client.Exceptions.BadRequestException");
    expect(body["Message"]).toMatch(/not valid JSON/);
    await stillServing();
  });

  it("a body over the limit is refused with 413, whether its length is declared or it just keeps coming", async () => {
    const big = JSON.stringify({
      Commands: [{ Id: "x", Type: "PUT", Document: { pad: "x".repeat(requestBytesMax) } }],
    });
    const declared = await raw([post("/databases/Spade/bulk_docs", big)]);
    expect(declared.status).toBe(413);
    expect(ravenBody(declared.body)["Message"]).toMatch(`at most ${requestBytesMax}`);
    const chunks = [
      "POST /databases/Spade/bulk_docs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      ...Array.from({ length: 10 }, () => `4000\r\n${"x".repeat(0x4000)}\r\n`),
    ];
    const streamed = await raw(chunks, 5);
    expect(streamed.status).toBe(413);
    expect(await fetch(`${cluster.urls[0]}/databases/Spade/docs?id=x`).then((r) => r.status)).toBe(
      404,
    );
    await stillServing();
  });

  it("unknown routes, features outside the subset and database names with '..' or '/' name what is wrong", async () => {
    const nowhere = await raw([
      "GET /nowhere/at/all HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]);
    expect(nowhere.status).toBe(400);
    expect(ravenBody(nowhere.body)).toMatchObject({
      Type: "Raven.Client.Exceptions.Routing.RouteNotFoundException",
      Url: "/nowhere/at/all",
    });
    const queries = await raw([post("/databases/Spade/queries", "{}")]);
    expect(queries.status).toBe(501);
    expect(ravenBody(queries.body)["Message"]).toMatch(/does not implement queries/);
    const dots = await raw([
      "GET /databases/../docs?id=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]);
    expect(dots.status).toBe(400);
    expect(ravenBody(dots.body)["Message"]).toMatch(/'\.\.'/);
    const slash = await raw([
      "GET /databases/a%2F..%2Fb/docs?id=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]);
    expect(slash.status).toBe(400);
    expect(ravenBody(slash.body)["Message"]).toMatch(/not a valid database name/);
    const created = await raw([send("PUT", "/admin/databases?name=..", '{"DatabaseName":".."}')]);
    expect(created.status).toBe(400);
    await stillServing();
  });

  it("garbage instead of HTTP gets a 400 and a closed connection", async () => {
    const garbage = await raw(["\u0000\u0001 this is not HTTP\r\n\r\n"]);
    expect(garbage.status).toBe(400);
    expect(ravenBody(garbage.body)["Type"]).toBe("Raven.Client.Exceptions.BadRequestException");
    await stillServing();
  });

  it("a client that never finishes its headers, or its body, gets a 408 in bounded time", async () => {
    const headers = await raw(["GET /cluster/topology HTTP/1.1\r\nHost: x\r\nX-Slow: "]);
    expect(headers.status).toBe(408);
    expect(ravenBody(headers.body)["Message"]).toMatch(/not received in time/);
    expect(headers.ms).toBeLessThan(headersTimeoutMs + 5_000);
    const body = await raw([
      "POST /databases/Spade/bulk_docs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
      '{"Commands": [',
    ]);
    expect(body.status).toBe(408);
    expect(body.ms).toBeLessThan(requestTimeoutMs + 5_000);
    await stillServing();
  });
});
