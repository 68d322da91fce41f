/**
 * Exercise 7: create a conflict and resolve it both ways ("Conflicts"; the chapter's note on
 * clients that fail over independently).
 */
import { isRookeryError } from "../engine/index.ts";
import type { ClusterHandle } from "../engine/index.ts";
import { fail, inSolution, list, pass, requestsOf } from "./history.ts";
import { createOn, joinAll, put } from "./setup.ts";
import type { Exercise, RequestRecord, RunRecord } from "./types.ts";

/** resolutionAt is the conflict resolution in force at a moment, replaying the solution's setConflictResolution commands (latest before any). */
function resolutionAt(record: RunRecord, atMs: number): string {
  let resolution = "latest";
  for (const t of record.traces) {
    if (t.atMs > atMs) break;
    if (t.type === "cluster-command" && t.ok) {
      const match = /^setConflictResolution Spade (\w+)/i.exec(t.text);
      if (match?.[1]) resolution = match[1];
    }
  }
  return resolution;
}

/** partitioned tells whether a partition was in force at a moment (a partition() not yet healed). */
function partitioned(record: RunRecord, atMs: number): boolean {
  let cut = false;
  for (const a of record.actions) {
    if (a.atMs > atMs) break;
    if (a.kind === "partition") cut = true;
    if (a.kind === "heal") cut = false;
  }
  return cut;
}

/** concurrentWrites finds ok writes of `id` on two different nodes while the servers were partitioned. */
function concurrentWrites(record: RunRecord, id: string): RequestRecord[] {
  const writes = requestsOf(record, "batch", "Spade").filter(
    (r) => r.ok && (r.puts ?? []).some((p) => p.id === id) && partitioned(record, r.atMs),
  );
  const tags = new Set(writes.map((w) => w.tag));
  return tags.size >= 2 ? writes : [];
}

function bodyOf(request: RequestRecord, id: string): string {
  return JSON.stringify(request.puts?.find((p) => p.id === id)?.body);
}

/** agreed checks the probes: every reachable node holds `id` with exactly `body`, and no node keeps a conflict. */
function agreed(record: RunRecord, id: string, body: string): { ok: boolean; detail: string } {
  const probes = record.probes.filter((p) => p.reachable);
  if (probes.length < 2)
    return { ok: false, detail: `the checker could reach only ${probes.length} node(s)` };
  const conflicted = probes.filter((p) => p.conflict).map((p) => p.tag);
  if (conflicted.length > 0)
    return { ok: false, detail: `still in conflict on ${list(conflicted)}` };
  const differ = probes.filter((p) => JSON.stringify(p.documents[id]) !== body);
  if (differ.length > 0)
    return {
      ok: false,
      detail: `${list(differ.map((p) => `${p.tag} has ${JSON.stringify(p.documents[id])}`))}; expected ${body}`,
    };
  return { ok: true, detail: `${list(probes.map((p) => p.tag))} all hold ${body}` };
}

/** writeOn writes one document straight to one server (a client on that side of the partition). */
export async function writeOn(
  cluster: ClusterHandle,
  tag: string,
  id: string,
  body: Record<string, unknown>,
): Promise<void> {
  const url = cluster.servers.find((s) => s.tag === tag)?.url ?? "";
  const response = await cluster.network.request(url, {
    type: "batch",
    database: "Spade",
    transaction: { puts: [{ id, body }] },
  });
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
}

/** conflicts: two sides of a partition write the same document; resolve it to the latest, then by hand. */
export const conflicts: Exercise = {
  id: "conflicts",
  title: "Create a conflict and resolve it both ways",
  section: "Conflicts",
  goal:
    "Spade lives on A and B and resolves conflicts to the latest version. Partition A from B and write users/2 on " +
    "both sides (A first, then B); heal, and let both nodes settle on B's later version by themselves. Then set Spade's " +
    'conflict resolution to "none", partition again and write users/1 on both sides; after healing, a read of users/1 ' +
    "reports a conflict. Resolve it by hand by writing a new users/1, so that both nodes agree.",
  hints: [
    'Two clients on two sides of a partition: the store reaches A; write on B straight through cluster.network.request(bUrl, { type: "batch", database: "Spade", transaction: { puts: [{ id, body }] } }).',
    'Let some virtual time pass between the two writes (await cluster.runFor(50)) so that "latest" has a clear winner.',
    'store.maintenance.setConflictResolution("Spade", "none") is cluster-wide: do it while the cluster is whole.',
    "A read of a conflicted document raises DocumentConflict; writing the document again (without a change vector) resolves it.",
  ],
  start: {
    servers: 2,
    seed: 17,
    async setup(cluster, store) {
      await joinAll(cluster, store);
      await createOn(cluster, store, "Spade", ["A", "B"]);
      await put(store, { "users/1": { name: "Oren" } });
      await cluster.waitFor(
        (c) => c.describe().documents["B"]?.["Spade"]?.includes("users/1") ?? false,
        { what: "users/1 on B", timeoutMs: 10_000 },
      );
    },
  },
  probe: { database: "Spade", ids: ["users/1", "users/2"] },
  checks: [
    {
      id: "concurrent-users-2",
      description: 'users/2 was written on both sides of a partition while resolution was "latest"',
      check: (record) => {
        const writes = concurrentWrites(record, "users/2").filter(
          (w) => resolutionAt(record, w.atMs) === "latest",
        );
        return writes.length >= 2
          ? pass(`written on ${list(writes.map((w) => w.tag))}`)
          : fail(
              'users/2 was not written on two nodes during a partition (with resolution "latest")',
            );
      },
    },
    {
      id: "resolved-to-latest",
      description: "both nodes settled on the later users/2 by themselves",
      check: (record) => {
        const writes = concurrentWrites(record, "users/2");
        const last = writes[writes.length - 1];
        if (!last) return fail("no concurrent writes of users/2");
        const result = agreed(record, "users/2", bodyOf(last, "users/2"));
        return result.ok
          ? pass(
              `${result.detail} (written on ${last.tag} at ${Math.round(last.atMs)} ms, the later write)`,
            )
          : fail(result.detail);
      },
    },
    {
      id: "conflict-kept",
      description: 'with resolution "none", a read of users/1 reported a conflict',
      check: (record) => {
        const read = inSolution(record.requests).find(
          (r) =>
            r.type === "get-documents" &&
            r.code === "DocumentConflict" &&
            (r.ids ?? []).includes("users/1"),
        );
        if (read) return pass(`${read.tag}: ${read.message ?? read.code}`);
        const none = inSolution(record.traces).some(
          (t) => t.type === "cluster-command" && /^setConflictResolution Spade none/i.test(t.text),
        );
        return none
          ? fail('resolution was "none", but no read of users/1 reported a conflict')
          : fail('Spade\'s conflict resolution was never set to "none"');
      },
    },
    {
      id: "resolved-by-hand",
      description: "users/1 was written again after the conflict, and both nodes agree on it",
      check: (record) => {
        const conflictRead = inSolution(record.requests).find(
          (r) =>
            r.type === "get-documents" &&
            r.code === "DocumentConflict" &&
            (r.ids ?? []).includes("users/1"),
        );
        if (!conflictRead) return fail("no conflict on users/1 was seen");
        const fixes = requestsOf(record, "batch", "Spade").filter(
          (r) =>
            r.ok &&
            r.atMs >= conflictRead.doneAtMs &&
            (r.puts ?? []).some((p) => p.id === "users/1"),
        );
        const fix = fixes[fixes.length - 1];
        if (!fix) return fail("users/1 was not written after the conflict was seen");
        const result = agreed(record, "users/1", bodyOf(fix, "users/1"));
        return result.ok ? pass(result.detail) : fail(result.detail);
      },
    },
  ],
  solution: {
    steps: [
      'cluster.partition(["A"], ["B"]); write users/2 = { name: "written on A" } through the store (it goes to A).',
      'await cluster.runFor(50); write users/2 = { name: "written on B" } on B with cluster.network.request.',
      'cluster.heal(), then waitFor both nodes to hold "written on B".',
      'store.maintenance.setConflictResolution("Spade", "none").',
      "Partition again, write users/1 on A and on B, heal, and wait a moment.",
      'Load users/1 (catch DocumentConflict), then store a new users/1 = { name: "Oren, resolved by hand" } and save; waitFor both nodes to agree.',
    ],
    async run(cluster, store) {
      const onBoth = async (id: string): Promise<void> => {
        cluster.partition(["A"], ["B"]);
        const session = store.openSession();
        session.store({ name: "written on A" }, id);
        await session.saveChanges();
        await cluster.runFor(50);
        await writeOn(cluster, "B", id, { name: "written on B" });
        cluster.heal();
      };
      await onBoth("users/2");
      await cluster.runFor(1_000);

      await store.maintenance.setConflictResolution("Spade", "none");
      await cluster.runFor(100);
      await onBoth("users/1");
      await cluster.runFor(1_000);
      try {
        await store.openSession().load("users/1");
      } catch (error) {
        if (!isRookeryError(error, "DocumentConflict")) throw error;
      }
      const fix = store.openSession();
      fix.store({ name: "Oren, resolved by hand" }, "users/1");
      await fix.saveChanges();
      await cluster.runFor(1_000);
    },
  },
};
