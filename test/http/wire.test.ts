/**
 * The RavenDB wire subset, route by route, over simulated servers (answerHttp needs only a
 * server's request API, so virtual time drives it): shapes, statuses, headers and error bodies as
 * shared/reference/ravendb-wire.md gives them.
 */
import { describe, expect, it } from "vitest";
import { answerHttp } from "../../engine/http/index.ts";
import type { HttpResponse } from "../../engine/http/index.ts";
import { parseTimeSpan } from "../../engine/http/query.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";

interface Sent {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** wire sends one HTTP request to server `index` of a simulated cluster. */
function wire(cluster: SimCluster, index = 0) {
  const url = cluster.urls[index]!;
  const api = {
    url,
    handleRequest: (request: Parameters<SimCluster["network"]["request"]>[1]) =>
      cluster.network.request(url, request),
  };
  return async (target: string, sent: Sent = {}): Promise<HttpResponse> =>
    await answerHttp(api, {
      method: sent.method ?? "GET",
      target,
      headers: sent.headers ?? {},
      body:
        sent.body === undefined
          ? ""
          : typeof sent.body === "string"
            ? sent.body
            : JSON.stringify(sent.body),
    });
}

function json(response: HttpResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

async function clusterWithSpade(servers = 2): Promise<SimCluster> {
  const cluster = new SimCluster({ servers, seed: 3 });
  const a = wire(cluster, 0);
  const created = await a("/admin/databases?name=Spade&replicationFactor=1&raft-request-id=x", {
    method: "PUT",
    body: { DatabaseName: "Spade" },
    headers: { etag: '"undefined"' },
  });
  expect(created.status).toBe(201);
  return cluster;
}

describe("the RavenDB wire subset", () => {
  it("a fresh server reports a cluster of itself, tag ?, with objects where the client walks them", async () => {
    const cluster = new SimCluster({ servers: 1 });
    const response = await wire(cluster)("/cluster/topology?first-topology-update");
    expect(response.status).toBe(200);
    expect(response.headers["Content-Type"]).toMatch(/application\/json/);
    const body = json(response);
    expect(body).toMatchObject({
      Topology: {
        TopologyId: "dummy",
        Members: { "?": "http://127.0.0.1:8080" },
        Promotables: {},
        Watchers: {},
        Etag: -1,
      },
      Leader: null,
      NodeTag: "?",
      CurrentState: "Passive",
      Status: {},
    });
  });

  it("create database answers 201 with the record's topology; again, 409 ConcurrencyException", async () => {
    const cluster = new SimCluster({ servers: 1 });
    const a = wire(cluster);
    const created = await a("/admin/databases?name=Spade&replicationFactor=1", {
      method: "PUT",
      body: { DatabaseName: "Spade" },
    });
    expect(created.status).toBe(201);
    expect(json(created)).toMatchObject({
      Name: "Spade",
      Topology: { Members: ["A"], Promotables: [], Rehabs: [], ReplicationFactor: 1 },
      NodesAddedTo: ["http://127.0.0.1:8080"],
    });
    const again = await a("/admin/databases?name=Spade&replicationFactor=1", {
      method: "PUT",
      body: { DatabaseName: "Spade" },
    });
    expect(again.status).toBe(409);
    expect(json(again)).toMatchObject({
      Url: "/admin/databases?name=Spade&replicationFactor=1",
      Type: "Raven.Client.Exceptions.ConcurrencyException",
      Message: expect.stringContaining("already exists"),
      Error: expect.stringContaining("already exists"),
    });
  });

  it("the database topology lists members with their URLs and the etag; unknown databases say Database-Missing", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const topology = await a("/topology?name=Spade&first-topology-update&applicationIdentifier=x");
    expect(topology.status).toBe(200);
    const body = json(topology);
    expect(body["Nodes"]).toEqual([
      { Url: "http://127.0.0.1:8080", ClusterTag: "A", ServerRole: "Member", Database: "Spade" },
    ]);
    expect(body["Etag"]).toBeGreaterThan(0);
    const missing = await a("/topology?name=Nope");
    expect(missing.status).toBe(503);
    expect(missing.headers["Database-Missing"]).toBe("Nope");
    expect(json(missing)["Type"]).toMatch(/DatabaseDoesNotExistException$/);
    // A server outside every cluster cannot know: 503 without Database-Missing, so the client
    // asks the next URL.
    const passive = await wire(cluster, 1)("/topology?name=Spade");
    expect(passive.status).toBe(503);
    expect(passive.headers["Database-Missing"]).toBeUndefined();
    expect(json(passive)["Type"]).toMatch(/NodeIsPassiveException$/);
  });

  it("bulk_docs stores and deletes in one transaction and answers each command in order", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const saved = await a("/databases/Spade/bulk_docs?", {
      method: "POST",
      body: {
        Commands: [
          {
            Id: "users/1",
            ChangeVector: null,
            Document: {
              name: "Oren",
              "@metadata": { "@collection": "Users", "Raven-Node-Type": "User" },
            },
            Type: "PUT",
          },
          { Id: "users/2", ChangeVector: null, Type: "DELETE" },
        ],
      },
    });
    expect(saved.status).toBe(201);
    const results = json(saved)["Results"] as Record<string, unknown>[];
    expect(results[0]).toMatchObject({
      Type: "PUT",
      "@id": "users/1",
      "@collection": "Users",
      "@change-vector": expect.stringMatching(/^A:\d+-/),
      "@last-modified": expect.any(String),
    });
    expect(results[1]).toMatchObject({ Id: "users/2", Type: "DELETE", Deleted: false });
    const loaded = await a("/databases/Spade/docs?&id=users%2F1");
    expect(loaded.status).toBe(200);
    expect(json(loaded)).toEqual({
      Results: [
        {
          name: "Oren",
          "@metadata": {
            "Raven-Node-Type": "User",
            "@collection": "Users",
            "@change-vector": results[0]!["@change-vector"],
            "@last-modified": expect.any(String),
            "@id": "users/1",
          },
        },
      ],
      Includes: {},
    });
  });

  it("a single missing id is a 404 with no body; several ids answer null in their slot", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const missing = await a("/databases/Spade/docs?&id=users%2F9");
    expect(missing).toMatchObject({ status: 404, body: "" });
    await a("/databases/Spade/bulk_docs?", {
      method: "POST",
      body: { Commands: [{ Id: "users/1", Document: { name: "Oren" }, Type: "PUT" }] },
    });
    const both = await a("/databases/Spade/docs?&id=users%2F1&id=users%2F9");
    expect((json(both)["Results"] as unknown[]).map((doc) => doc && "doc")).toEqual(["doc", null]);
  });

  it("includes bring the documents a path points to", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    await a("/databases/Spade/bulk_docs?", {
      method: "POST",
      body: {
        Commands: [
          { Id: "employees/1", Document: { name: "Ayende" }, Type: "PUT" },
          { Id: "products/1", Document: { name: "Milk" }, Type: "PUT" },
          {
            Id: "orders/1",
            Document: { Employee: "employees/1", Lines: [{ Product: "products/1" }] },
            Type: "PUT",
          },
        ],
      },
    });
    const loaded = json(
      await a("/databases/Spade/docs?&id=orders%2F1&include=Employee&include=Lines[].Product"),
    );
    expect(Object.keys(loaded["Includes"] as object).sort()).toEqual(["employees/1", "products/1"]);
  });

  it("write assurance rides on bulk_docs' query: too few replicas is a 408 RavenTimeoutException and the write stays", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const timedOut = await a(
      "/databases/Spade/bulk_docs?&waitForReplicasTimeout=00:00:00.500000&throwOnTimeoutInWaitForReplicas=true&numberOfReplicasToWaitFor=1",
      { method: "POST", body: { Commands: [{ Id: "users/4", Document: {}, Type: "PUT" }] } },
    );
    expect(timedOut.status).toBe(408);
    expect(json(timedOut)).toMatchObject({
      Type: "Raven.Client.Exceptions.RavenTimeoutException",
      Message: expect.stringContaining("Could not verify"),
      FailImmediately: true,
    });
    expect((await a("/databases/Spade/docs?&id=users%2F4")).status).toBe(200);
    const relaxed = await a(
      "/databases/Spade/bulk_docs?&waitForReplicasTimeout=00:00:00.200000&throwOnTimeoutInWaitForReplicas=false&numberOfReplicasToWaitFor=majority",
      { method: "POST", body: { Commands: [{ Id: "users/5", Document: {}, Type: "PUT" }] } },
    );
    expect(relaxed.status).toBe(201);
  });

  it("optimistic concurrency: a stale change vector or an id that exists where none was expected is a 409", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const put = (vector: string | null) =>
      a("/databases/Spade/bulk_docs?", {
        method: "POST",
        body: { Commands: [{ Id: "users/1", ChangeVector: vector, Document: {}, Type: "PUT" }] },
      });
    expect((await put("")).status).toBe(201);
    const conflict = await put("");
    expect(conflict.status).toBe(409);
    expect(json(conflict)).toMatchObject({
      Type: "Raven.Client.Exceptions.ConcurrencyException",
      Id: "users/1",
    });
    expect((await put("A:999-nope")).status).toBe(409);
  });

  it("Refresh-Topology only when the server knows a newer topology than the client sent", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const etag = json(await a("/topology?name=Spade"))["Etag"] as number;
    const stale = await a("/databases/Spade/docs?&id=x", {
      headers: { "topology-etag": `"${etag - 1}"` },
    });
    expect(stale.headers["Refresh-Topology"]).toBe("true");
    const current = await a("/databases/Spade/docs?&id=x", {
      headers: { "topology-etag": `"${etag}"` },
    });
    expect(current.headers["Refresh-Topology"]).toBeUndefined();
    const cluster1 = json(await a("/cluster/topology"))["Etag"] as number;
    const server = await a("/admin/databases?name=Spade", {
      headers: { "cluster-topology-etag": `"${cluster1 - 1}"` },
    });
    expect(server.headers["Refresh-Topology"]).toBe("true");
  });

  it("health checks answer 204 with no body where the database lives and 410 where it does not", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    await a(`/admin/cluster/node?url=${encodeURIComponent(cluster.urls[1]!)}&watcher=false`, {
      method: "PUT",
    });
    expect(await a("/databases/Spade/healthcheck")).toMatchObject({ status: 204, body: "" });
    await cluster.waitFor((c) => c.servers[1]!.tag === "B", { what: "B joined" });
    const b = await wire(cluster, 1)("/databases/Spade/healthcheck");
    expect(b.status).toBe(410);
    expect(json(b)["Type"]).toMatch(/DatabaseNotRelevantException$/);
  });

  it("adding a node answers 204 with no body and the node joins with the next tag", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const added = await a(
      `/admin/cluster/node?url=${encodeURIComponent(cluster.urls[1]!)}&watcher=false&raft-request-id=1`,
      { method: "PUT" },
    );
    expect(added).toMatchObject({ status: 204, body: "" });
    const topology = json(await a("/cluster/topology"))["Topology"] as Record<string, unknown>;
    expect(topology["Members"]).toEqual({ A: cluster.urls[0], B: cluster.urls[1] });
    const node = await a(`/admin/databases/node?name=Spade&node=B`, { method: "PUT" });
    expect(node.status).toBe(201);
    expect(json(node)).toMatchObject({ Name: "Spade", Topology: { Promotables: ["B"] } });
  });

  it("HiLo hands out growing ranges ending with the server's tag", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const next = (lastMax: number) =>
      a(
        `/databases/Spade/hilo/next?lastBatchSize=0&tag=ToDoTasks&lastRangeAt=1970-01-01T00%3A00%3A00.0000000Z&identityPartsSeparator=/&lastMax=${lastMax}`,
      );
    const first = await next(0);
    expect(first.status).toBe(201);
    expect(json(first)).toMatchObject({ Prefix: "ToDoTasks/", Low: 1, High: 32, ServerTag: "A" });
    expect(json(await next(32))).toMatchObject({ Low: 33, High: 64 });
    expect(json(await next(0))).toMatchObject({ Low: 65 });
    expect(
      await a("/databases/Spade/hilo/return?tag=ToDoTasks&end=96&last=70", { method: "PUT" }),
    ).toMatchObject({ status: 204, body: "" });
  });

  it("the record of a database, 404 with Database-Missing for one that does not exist", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const record = await a("/admin/databases?name=Spade");
    expect(json(record)).toMatchObject({
      DatabaseName: "Spade",
      Disabled: false,
      Topology: { Members: ["A"] },
      Settings: {},
    });
    const missing = await a("/admin/databases?name=Nope");
    expect(missing.status).toBe(404);
    expect(missing.headers["Database-Missing"]).toBe("Nope");
    expect(json(await a("/databases?namesOnly=true"))).toEqual({ Databases: ["Spade"] });
  });

  it("bad input gets RavenDB-shaped errors that say what was wrong", async () => {
    const cluster = await clusterWithSpade();
    const a = wire(cluster);
    const cases: [string, Sent, number, RegExp, RegExp][] = [
      ["/nowhere", {}, 400, /RouteNotFoundException$/, /no handler for path: GET \/nowhere/],
      ["/databases/Spade/queries", { method: "POST" }, 501, /NotSupportedException$/, /queries/],
      ["/databases/../docs", {}, 400, /BadRequestException$/, /'\.\.'/],
      ["/databases/a%2Fb/docs?id=x", {}, 400, /BadRequestException$/, /not a valid database name/],
      [
        "/databases/Spade/bulk_docs",
        { method: "POST", body: "{not json" },
        400,
        /BadRequestException$/,
        /not valid JSON/,
      ],
      [
        "/databases/Spade/bulk_docs",
        { method: "POST", body: { Commands: [{ Id: "x", Type: "PATCH" }] } },
        501,
        /NotSupportedException$/,
        /patching/,
      ],
      [
        "/databases/Spade/bulk_docs",
        { method: "POST", body: { Commands: [{ Id: "x", Document: 5, Type: "PUT" }] } },
        400,
        /BadRequestException$/,
        /must be a JSON object/,
      ],
      ["/databases/Nope/docs?id=x", {}, 500, /DatabaseDoesNotExistException$/, /Nope/],
      ["/databases/Spade/docs?%E0%A4%A=x", {}, 200, /./, /./],
    ];
    for (const [target, sent, status, type, message] of cases) {
      const response = await a(target, sent);
      expect(response.status, target).toBe(status);
      if (status === 200) continue;
      const body = json(response);
      expect(body["Type"], target).toMatch(type);
      expect(body["Message"], target).toMatch(message);
      expect(body["Url"], target).toBe(target);
    }
  });
});

describe("TimeSpans", () => {
  it("reads .NET TimeSpans as the client writes them", () => {
    expect(parseTimeSpan("00:00:15")).toBe(15_000);
    expect(parseTimeSpan("00:00:01.500000")).toBe(1_500);
    expect(parseTimeSpan("1.02:03:04")).toBe(((24 + 2) * 60 + 3) * 60_000 + 4_000);
    expect(parseTimeSpan("15 seconds")).toBeUndefined();
    expect(parseTimeSpan("00:61:00")).toBeUndefined();
  });
});
