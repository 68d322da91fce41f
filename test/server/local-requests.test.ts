import { describe, expect, it } from "vitest";
import { ClusterNode } from "../../engine/server/cluster-node.ts";
import { DatabaseHosting } from "../../engine/server/database-hosting.ts";
import { LocalRequests } from "../../engine/server/local-requests.ts";
import type { ServerRequest, ServerResponse } from "../../engine/transport/index.ts";
import { DiskNow, parts, urlA, urlB } from "./parts.ts";

/** Node A of a one-node cluster that hosts Spade; B is in the topology but not in Spade's group. */
async function localOnA() {
  const p = parts();
  let hosting: DatabaseHosting | undefined;
  const node = new ClusterNode(p.context, {
    applied: (_command, state) => hosting?.reconcile(state),
    restored: (state) => hosting?.reconcile(state),
    roleChanged: () => {},
  });
  hosting = new DatabaseHosting(p.context, node, {});
  const local = new LocalRequests(p.context, node, hosting);
  node.bootstrap();
  const rachis = node.rachis!;
  for (const command of [
    { type: "addNode", url: urlB },
    { type: "createDatabase", name: "Spade", nodes: ["A"] },
    { type: "createDatabase", name: "Pitchfork", nodes: ["B"] },
  ] as const) {
    const proposal = rachis.propose(command);
    if (!proposal.accepted) throw new Error(`${command.type} was not accepted`);
    await proposal.outcome;
  }
  const ask = async (request: ServerRequest): Promise<ServerResponse> =>
    local.withTopologyEtag(request, await local.answer(request).catch(errorResponse));
  return { ...p, node, local, ask };
}

function errorResponse(error: { code: string; message: string }): ServerResponse {
  return { ok: false, error: { code: error.code, message: error.message } };
}

describe("requests a server answers alone", () => {
  it("a passive server describes itself as a cluster of one", async () => {
    const p = parts({ storage: new DiskNow() });
    const node = new ClusterNode(p.context, {
      applied: () => {},
      restored: () => {},
      roleChanged: () => {},
    });
    const local = new LocalRequests(p.context, node, new DatabaseHosting(p.context, node, {}));
    expect(await local.answer({ type: "node-info" })).toEqual({
      ok: true,
      result: { url: urlA, tag: "?", topologyId: null, role: "passive", term: 0, leader: null },
    });
    expect(await local.answer({ type: "cluster-topology" })).toMatchObject({
      ok: true,
      result: { tag: "?", members: { "?": urlA }, etag: -1 },
    });
  });

  it("writes, reads and lists the documents of a hosted database, stamped with its topology etag", async () => {
    const { ask } = await localOnA();
    const written = await ask({
      type: "batch",
      database: "Spade",
      transaction: { puts: [{ id: "users/1", body: { name: "Oren" } }] },
    });
    expect(written).toMatchObject({
      ok: true,
      result: { lastEtag: 1, written: [{ id: "users/1", kind: "document", etag: 1 }] },
    });
    expect(written.topologyEtag).toBeGreaterThan(0);
    const read = await ask({ type: "get-documents", database: "spade", ids: ["USERS/1", "x"] });
    expect(read).toMatchObject({
      ok: true,
      result: [{ id: "users/1", body: { name: "Oren" } }, null],
    });
    const listed = await ask({ type: "list-documents", database: "Spade" });
    expect(listed).toMatchObject({ ok: true, result: [{ id: "users/1" }] });
  });

  it("names where a database lives when this server does not host it, and refuses an unknown one", async () => {
    const { ask } = await localOnA();
    const elsewhere = await ask({ type: "list-documents", database: "Pitchfork" });
    expect(elsewhere).toMatchObject({
      ok: false,
      error: { code: "DatabaseNotRelevant" },
      topologyEtag: expect.any(Number),
    });
    expect(elsewhere.ok ? "" : elsewhere.error.message).toContain("it lives on B");
    const unknown = await ask({ type: "database-status", database: "Nowhere" });
    expect(unknown).toMatchObject({ ok: false, error: { code: "DatabaseDoesNotExist" } });
  });

  it("gives a database's topology with every node's URL, preferred first", async () => {
    const { ask } = await localOnA();
    expect(await ask({ type: "database-topology", database: "Pitchfork" })).toMatchObject({
      ok: true,
      result: {
        database: "Pitchfork",
        members: ["B"],
        nodes: [{ tag: "B", url: urlB, role: "member" }],
      },
    });
  });

  it("gives a document's revisions in this server's order, and an attachment with its content (the documents panel's history)", async () => {
    const { ask, node } = await localOnA();
    const revisions = {
      default: { disabled: false, minimumRevisionsToKeep: null, purgeOnDelete: false },
      collections: {},
    };
    const proposal = node.rachis!.propose({
      type: "createDatabase",
      name: "Rake",
      nodes: ["A"],
      revisions,
    });
    if (!proposal.accepted) throw new Error("Rake was not accepted");
    await proposal.outcome;
    for (const handle of ["ash", "oak"]) {
      const saved = await ask({
        type: "batch",
        database: "Rake",
        transaction: {
          puts: [{ id: "rakes/1", body: { handle } }],
          ...(handle === "oak"
            ? {
                attachmentPuts: [
                  {
                    documentId: "rakes/1",
                    name: "tines.txt",
                    content: "twelve",
                    contentType: "text/plain",
                  },
                ],
              }
            : {}),
        },
      });
      expect(saved.ok).toBe(true);
    }
    const history = await ask({ type: "get-revisions", database: "Rake", id: "RAKES/1" });
    expect(history).toMatchObject({
      ok: true,
      result: [
        { body: { handle: "ash" }, attachments: [] },
        {
          body: { handle: "oak" },
          attachments: [{ name: "tines.txt", contentType: "text/plain", size: 6 }],
        },
      ],
    });
    if (history.ok)
      for (const revision of history.result as { changeVector: string; etag: number }[])
        expect(revision.changeVector).toMatch(/^A:\d+-/);
    const attachment = await ask({
      type: "get-attachment",
      database: "Rake",
      id: "rakes/1",
      name: "tines.txt",
    });
    expect(attachment).toMatchObject({
      ok: true,
      result: { name: "tines.txt", contentType: "text/plain", size: 6, text: "twelve" },
    });
    const missing = await ask({
      type: "get-attachment",
      database: "Rake",
      id: "rakes/1",
      name: "x",
    });
    expect(missing).toMatchObject({ ok: true, result: null });
    expect(await ask({ type: "get-revisions", database: "Rake", id: "none/1" })).toMatchObject({
      ok: true,
      result: [],
    });
  });
});
