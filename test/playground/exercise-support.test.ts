import { describe, expect, it } from "vitest";
import { Cluster } from "../../engine/index.ts";
import { exercises } from "../../exercises/index.ts";
import {
  checklist,
  cliCommand,
  exerciseInfo,
  exerciseScenario,
  exerciseSupport,
  forgetSolved,
  loadRecord,
  loadSolved,
  markSolved,
  saveRecord,
  slowedDown,
  solvedNow,
  supportOf,
} from "../../playground/exercise-support.ts";
import type { KeyValueStore } from "../../playground/persistence.ts";

function memoryStore(): KeyValueStore & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

const info = exerciseInfo(exercises[1]!, 2);
const line = (id: string, ok: boolean) => ({ id, description: id, ok, detail: ok ? "yes" : "no" });

describe("exercise pages: pure helpers", () => {
  it("every exercise has a support entry, and every `how` names one of its checks", () => {
    for (const exercise of exercises) {
      const support = exerciseSupport[exercise.id];
      expect(support, exercise.id).toBeDefined();
      for (const id of Object.keys(support?.how ?? {}))
        expect(
          exercise.checks.map((c) => c.id),
          `${exercise.id}: ${id}`,
        ).toContain(id);
      if (support?.where === "cli") expect(support.why, exercise.id).toBeTruthy();
    }
    expect(supportOf("no-such-exercise").where).toBe("cli");
  });

  it("exerciseInfo is plain data (the island's props) and the scenario starts the exercise's servers without a walkthrough", () => {
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
    expect(info).toMatchObject({ id: "grow-group", number: 2, servers: 2, database: "Spade" });
    expect(info.steps.length).toBeGreaterThan(0);
    const scenario = exerciseScenario(exerciseInfo(exercises[5]!, 6));
    expect(scenario).toMatchObject({
      id: "exercise-partial-transaction",
      servers: 2,
      steps: [],
      setup: [],
      database: "Bank",
      replicationLimits: { batchItemsMax: 1 },
    });
    expect(cliCommand(6)).toBe("npm run exercise -- check 6 --solution my-solution.ts");
  });

  it("checklist: open before a verdict, done where a check holds, never ticked for a CLI-only exercise", () => {
    const support = supportOf("grow-group");
    expect(checklist(info, null, support).map((row) => row.state)).toEqual([
      "open",
      "open",
      "open",
      "open",
    ]);
    const lines = info.checks.map((check, i) => line(check.id, i === 0));
    const rows = checklist(info, lines, support);
    expect(rows.map((row) => row.state)).toEqual(["done", "open", "open", "open"]);
    expect(rows[0]!.detail).toBe("yes");
    expect(rows[1]!.how).toMatch(/Add node to group/);
    const allOk = info.checks.map((check) => line(check.id, true));
    expect(
      checklist(info, allOk, { where: "cli", why: "x" }).every((row) => row.state === "cli"),
    ).toBe(true);
    expect(solvedNow(allOk, support, 4)).toBe(true);
    expect(solvedNow(allOk.slice(1), support, 4)).toBe(false);
    expect(solvedNow(lines, support, 4)).toBe(false);
    expect(solvedNow(allOk, { where: "cli" }, 4)).toBe(false);
  });

  it("the solved mark and the recorded run survive in the key-value store, and junk is ignored", () => {
    const store = memoryStore();
    expect(loadSolved(store, "grow-group")).toBeNull();
    markSolved(store, "grow-group", new Date("2026-01-02T03:04:05Z"));
    expect(loadSolved(store, "grow-group")).toEqual({ atIso: "2026-01-02T03:04:05.000Z" });
    forgetSolved(store, "grow-group");
    expect(loadSolved(store, "grow-group")).toBeNull();

    const history = {
      traces: [],
      clientEvents: [],
      requests: [],
      operations: [],
      actions: [{ phase: "solution" as const, atMs: 5, kind: "kill" as const, target: "A" }],
      solutionStartedAtMs: 3,
    };
    expect(saveRecord(store, "failover", "cluster-1", history)).toBe(true);
    expect(loadRecord(store, "failover")).toEqual({
      version: 1,
      clusterName: "cluster-1",
      history,
    });
    store.setItem("rookery-exercise:failover:record", "{ not json");
    expect(loadRecord(store, "failover")).toBeNull();
    store.setItem(
      "rookery-exercise:failover:record",
      JSON.stringify({ version: 1, clusterName: "x", history: { traces: [] } }),
    );
    expect(loadRecord(store, "failover")).toBeNull();
    const full: KeyValueStore = {
      getItem: () => null,
      setItem: () => {
        throw new Error("quota");
      },
      removeItem: () => {},
    };
    expect(saveRecord(full, "failover", "c", history)).toBe(false);
  });

  it("slowedDown stretches waits and pauses by the factor, nothing else", async () => {
    const cluster = await Cluster.start({ servers: 1, seed: 3 });
    try {
      const slow = slowedDown(cluster, 4);
      const before = cluster.nowMs();
      await slow.runFor(100);
      expect(cluster.nowMs() - before).toBeCloseTo(400, 0);
      const started = cluster.nowMs();
      await expect(slow.waitFor(() => false, { timeoutMs: 50, what: "never" })).rejects.toThrow();
      expect(cluster.nowMs() - started).toBeGreaterThanOrEqual(200);
      expect(slow.urls).toEqual(cluster.urls);
      expect(slowedDown(cluster, 1)).toBe(cluster);
    } finally {
      await cluster.stop();
    }
  });
});
