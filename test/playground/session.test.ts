import { describe, expect, it } from "vitest";
import { PlaygroundSession } from "../../playground/session.ts";
import { scenario, url } from "../../playground/scenarios.ts";
import type { KeyValueStore } from "../../playground/persistence.ts";

function memoryStore(): KeyValueStore & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

function session(id: string) {
  return new PlaygroundSession({ scenario: scenario(id), runtime: "sim", store: memoryStore(), refreshMs: 0, driveSimClock: false, stepTimeoutMs: 30_000 });
}

async function allSteps(s: PlaygroundSession): Promise<void> {
  while (s.state.get().step.nextTitle) {
    const before = s.state.get().step.done;
    await s.nextStep();
    const after = s.state.get();
    expect(after.message?.error ? after.message.text : "", `step ${before + 1}`).toBe("");
    expect(after.step.done).toBe(before + 1);
  }
}

describe("PlaygroundSession on the sim runtime: the chapter's walkthrough by Next step", () => {
  it("Your first cluster: Spade on A, users on A, B joins with ?, then Spade reaches B", async () => {
    const s = session("first-cluster");
    await s.open();
    let state = s.state.get();
    expect(state.phase).toBe("running");
    expect(state.servers.map((x) => x.tag)).toEqual(["?", "?"]);
    await s.nextStep();
    await s.nextStep();
    await s.nextStep(); // look at server 2
    expect(s.state.get().selectedUrl).toBe(url(2));
    expect(s.state.get().servers[1]!.tag).toBe("?");
    await s.nextStep(); // add node
    await s.nextStep(); // Spade offline on B
    state = s.state.get();
    expect(state.selectedUrl).toBe(url(2));
    expect(state.statuses["Spade"]).toBe("Offline");
    await s.nextStep(); // add node to group
    await s.refresh();
    state = s.state.get();
    expect(state.statuses["Spade"]).toBe("Online");
    expect(state.documents?.map((d) => d.id)).toEqual(["users/1", "users/2"]);
    expect(state.step.nextTitle).toBeNull();
    expect(state.timeline.some((e) => e.category === "replication")).toBe(true);
    expect(state.timeline.some((e) => e.category === "election")).toBe(true);
    await s.dispose();
  });

  it("Kicking the tires: no leader after Kill A, users/3 on B, then on A after Restart", async () => {
    const s = session("kicking-the-tires");
    await s.open();
    expect(s.state.get().description?.databases[0]?.members).toHaveLength(2);
    await s.nextStep(); // kill A
    expect(s.state.get().servers.every((x) => !x.alive || x.leader === null)).toBe(true);
    await s.nextStep(); // Pitchfork fails
    expect(s.state.get().message?.text).toMatch(/failed, as expected/);
    await s.nextStep(); // users/3 on B
    await s.nextStep(); // restart A
    const docs = s.handle!.describe().documents;
    expect(docs["A"]?.["Spade"]).toContain("users/3");
    await s.dispose();
  });

  it("Expanding: five nodes and Pitchfork on three of them", async () => {
    const s = session("expanding");
    await s.open();
    expect(s.state.get().servers.map((x) => x.tag)).toEqual(["A", "B", "?", "?", "?"]);
    await allSteps(s);
    const description = s.handle!.describe();
    expect(description.cluster.map((x) => x.tag)).toEqual(["A", "B", "C", "D", "E"]);
    expect(description.databases.find((db) => db.name === "Pitchfork")?.members).toHaveLength(3);
    await s.dispose();
  });

  for (const id of ["client-failover", "write-assurance", "replication", "transaction-atomicity", "conflicts", "supervisor"]) {
    it(`${id}: the setup and every step complete`, async () => {
      const s = session(id);
      await s.open();
      expect(s.state.get().phase).toBe("running");
      await allSteps(s);
      await s.dispose();
    });
  }
});
