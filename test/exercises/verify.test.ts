/**
 * Every exercise fails from its starting state and passes with its reference solution (the CLI's
 * verify-all), plus what the runner does with wrong, throwing and looping solutions.
 */
import { describe, expect, it } from "vitest";
import {
  exercises,
  findExercise,
  noopSolution,
  resultsJson,
  runExercise,
  verifyExercise,
} from "../../exercises/index.ts";
import type { Exercise, Solution } from "../../exercises/index.ts";

function exercise(id: string): Exercise {
  const found = findExercise(id);
  if (!found) throw new Error(`no exercise ${id}`);
  return found;
}

describe("verify-all", () => {
  it("has at least ten exercises with distinct ids, hints, steps and checks", () => {
    expect(exercises.length).toBeGreaterThanOrEqual(10);
    expect(new Set(exercises.map((e) => e.id)).size).toBe(exercises.length);
    for (const e of exercises) {
      expect(e.hints.length, e.id).toBeGreaterThan(0);
      expect(e.solution.steps.length, e.id).toBeGreaterThan(0);
      expect(e.checks.length, e.id).toBeGreaterThan(1);
    }
    expect(findExercise("3")?.id).toBe("leaderless-writes");
    expect(findExercise("conflicts")?.title).toContain("conflict");
    expect(findExercise("0")).toBeUndefined();
  });

  it.each(exercises.map((e, i) => [i + 1, e.id, e] as const))(
    "%i. %s fails unsolved and passes with its reference solution",
    async (_n, _id, e) => {
      const result = await verifyExercise(e);
      expect(result.problems).toEqual([]);
      expect(result.unsolved.status).toBe("fail");
      expect(result.solved.status).toBe("pass");
      // The unsolved run leaves at least half of the checklist open: the starting state is far from the goal.
      expect(result.unsolved.checks.filter((line) => !line.ok).length).toBeGreaterThanOrEqual(
        Math.ceil(e.checks.length / 2),
      );
    },
  );

  it("the reference solutions pass on other seeds too (as --seed would run them)", async () => {
    for (const seed of [101, 202, 303]) {
      for (const e of exercises) {
        const report = await runExercise(e, e.solution.run, { seed });
        expect(
          report.status,
          `${e.id} seed ${seed}: ${JSON.stringify(report.checks.filter((line) => !line.ok))} ${report.message ?? ""}`,
        ).toBe("pass");
      }
    }
  });
});

describe("the checklist", () => {
  it("a wrong solution fails with the lines of the goals it missed, and only those", async () => {
    // Kills A and writes, but never restarts A: the cluster part of the goal is missed.
    const halfway: Solution = async (cluster, store) => {
      await cluster.kill("A");
      try {
        await store.maintenance.createDatabase({ name: "Rake" });
      } catch {
        // no leader
      }
      const session = store.openSession();
      session.store({ name: "Grace Hopper" }, "users/3");
      await session.saveChanges();
    };
    const report = await runExercise(exercise("leaderless-writes"), halfway);
    expect(report.status).toBe("fail");
    expect(report.message).toBe("2 of 5 checks failed");
    const failed = report.checks.filter((line) => !line.ok);
    expect(failed.map((line) => line.id)).toEqual(["leader-back", "replicated-to-a"]);
    expect(failed[0]!.detail).toBe("A was never restarted");
    expect(report.checks.find((line) => line.id === "write-without-leader")!.detail).toMatch(
      /node B took users\/3 at \d+ ms, with no leader/,
    );
  });

  it("writing to the wrong place is named: users/1 written to B by hand instead of replicated", async () => {
    const cheat: Solution = async (cluster, store) => {
      await store.maintenance.addNodeToCluster(cluster.urls[1]!);
      await store.maintenance.addDatabaseNode("Spade", "B");
      await cluster.waitFor((c) => c.describe().documents["B"]?.["Spade"] !== undefined);
      await cluster.network.request(cluster.urls[1]!, {
        type: "batch",
        database: "Spade",
        transaction: { puts: [{ id: "users/1", body: { name: "Oren" } }] },
      });
      await cluster.runFor(2_000);
    };
    const report = await runExercise(exercise("grow-group"), cheat);
    expect(report.status).toBe("fail");
    expect(report.checks.find((line) => line.id === "documents-on-b")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("let replication bring them"),
    });
  });

  it("killing a node the client did not prefer is not a failover", async () => {
    const report = await runExercise(exercise("failover"), async (cluster, store) => {
      const session = store.openSession();
      session.store({ n: 1 }, "users/1");
      await session.saveChanges();
      await cluster.kill("C");
      const again = store.openSession();
      again.store({ n: 2 }, "users/2");
      await again.saveChanges();
    });
    expect(report.status).toBe("fail");
    expect(report.checks[0]!.detail).toContain(
      "you killed C, but not the node the store preferred",
    );
  });

  it("a check that throws is a failed line, not a crash", async () => {
    const base = exercise("bootstrap");
    const broken: Exercise = {
      ...base,
      checks: [
        ...base.checks,
        {
          id: "boom",
          description: "explodes",
          check: () => {
            throw new Error("bad checker");
          },
        },
      ],
    };
    const report = await runExercise(broken, base.solution.run);
    expect(report.status).toBe("fail");
    expect(report.checks.at(-1)).toEqual({
      id: "boom",
      description: "explodes",
      ok: false,
      detail: "the checker failed: bad checker",
    });
  });
});

describe("solutions that throw or never end", () => {
  it("a throwing solution is an error that quotes the error, with the checklist still reported", async () => {
    const report = await runExercise(exercise("bootstrap"), async (_cluster, store) => {
      await store.maintenance.createDatabase({ name: "Spade" });
      throw new Error("I give up");
    });
    expect(report.status).toBe("error");
    expect(report.message).toBe("the solution threw: I give up");
    expect(report.checks.find((line) => line.id === "spade")?.ok).toBe(true);
    expect(report.record.outcome).toEqual({
      status: "threw",
      message: "the solution threw: I give up",
    });
  });

  it("an engine error keeps its code in the message", async () => {
    const report = await runExercise(exercise("bootstrap"), async (cluster) => {
      await cluster.kill("Z");
    });
    expect(report.status).toBe("error");
    expect(report.message).toMatch(/^the solution threw: UnknownServer: no server "Z"/);
  });

  it("a loop in virtual time stops at the virtual limit", async () => {
    const started = Date.now();
    const report = await runExercise(
      exercise("bootstrap"),
      async (cluster) => {
        for (;;) await cluster.runFor(500);
      },
      { virtualLimitMs: 5_000 },
    );
    expect(report.status).toBe("error");
    expect(report.message).toBe(
      "the solution ran past its time limit: 5000 ms of virtual cluster time (a loop that never ends, or a wait for something that never happens?)",
    );
    expect(report.record.outcome).toMatchObject({ status: "timed-out", limit: "virtual" });
    expect(report.record.solutionEndedAtMs - report.record.solutionStartedAtMs).toBe(5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a single long wait is cut to the virtual limit", async () => {
    const report = await runExercise(
      exercise("bootstrap"),
      async (cluster) => {
        await cluster.waitFor(() => false, { timeoutMs: 10_000_000 });
      },
      { virtualLimitMs: 2_000 },
    );
    expect(report.status).toBe("error");
    expect(report.record.outcome).toMatchObject({ status: "timed-out", limit: "virtual" });
    expect(report.record.solutionEndedAtMs - report.record.solutionStartedAtMs).toBe(2_000);
  });

  it("a loop of store reads stops at the virtual limit too", async () => {
    const report = await runExercise(
      exercise("grow-group"),
      async (_cluster, store) => {
        for (;;) await store.openSession().load("users/1");
      },
      { virtualLimitMs: 1_000 },
    );
    expect(report.status).toBe("error");
    expect(report.record.outcome).toMatchObject({ status: "timed-out", limit: "virtual" });
  });

  it("a promise that never settles stops at the wall limit; the abandoned solution cannot touch the cluster afterwards", async () => {
    let resume: (() => void) | undefined;
    let late: unknown;
    const report = await runExercise(
      exercise("bootstrap"),
      async (cluster) => {
        await new Promise<void>((resolve) => (resume = resolve));
        try {
          await cluster.kill("A");
        } catch (error) {
          late = error;
        }
      },
      { wallLimitMs: 200 },
    );
    expect(report.status).toBe("error");
    expect(report.message).toBe(
      "the solution ran past its time limit: 200 ms of real time (is it awaiting a promise that never settles?)",
    );
    resume?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(late).toMatchObject({ code: "RunOver" });
  });
});

describe("results.json", () => {
  it("has Exercism's version 2 shape: status, message, one test per check", async () => {
    const failed = resultsJson(await runExercise(exercise("write-assurance"), noopSolution));
    expect(failed.version).toBe(2);
    expect(failed.status).toBe("fail");
    expect(failed.message).toBe("5 of 5 checks failed");
    expect(failed.tests).toHaveLength(5);
    for (const test of failed.tests) {
      expect(Object.keys(test).sort()).toEqual(["message", "name", "status", "test_code"]);
      expect(test.status).toBe("fail");
      expect(typeof test.message).toBe("string");
    }
    expect(failed.tests[0]!.test_code).toBe("write-assurance/assurance-failed");

    const passed = resultsJson(
      await runExercise(exercise("write-assurance"), exercise("write-assurance").solution.run),
    );
    expect(passed).toMatchObject({ version: 2, status: "pass" });
    expect(passed.message).toBeUndefined();
    expect(passed.tests.every((test) => test.status === "pass" && test.message === undefined)).toBe(
      true,
    );

    const errored = resultsJson(
      await runExercise(exercise("write-assurance"), async () => {
        throw new Error("nope");
      }),
    );
    expect(errored).toMatchObject({
      version: 2,
      status: "error",
      message: "the solution threw: nope",
    });
    expect(JSON.parse(JSON.stringify(errored))).toEqual(errored);
  });
});
