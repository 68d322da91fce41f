import { describe, expect, it } from "vitest";
import { PlaygroundSession } from "../../playground/session.ts";
import { scenario, url } from "../../playground/scenarios.ts";
import type { KeyValueStore } from "../../playground/persistence.ts";
import type { RevisionView } from "../../engine/index.ts";

function memoryStore(): KeyValueStore & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}

function session(id: string) {
  return new PlaygroundSession({
    scenario: scenario(id),
    runtime: "sim",
    store: memoryStore(),
    refreshMs: 0,
    driveSimClock: false,
    stepTimeoutMs: 30_000,
  });
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

  for (const id of [
    "client-failover",
    "write-assurance",
    "replication",
    "transaction-atomicity",
    "conflicts",
    "supervisor",
    "rachis-up-close",
  ]) {
    it(`${id}: the setup and every step complete`, async () => {
      const s = session(id);
      await s.open();
      expect(s.state.get().phase).toBe("running");
      await allSteps(s);
      await s.dispose();
    });
  }
});

describe("PlaygroundSession: what replicates, in the documents panel (claim 18)", () => {
  it("on E, tines/2 lists its attachment with its text and its revisions, and tines/3 is gone", async () => {
    const s = session("replication");
    await s.open();
    await allSteps(s);
    expect(s.state.get().selectedUrl).toBe(url(5));
    await s.refresh();
    const ids = () => s.state.get().documents?.map((doc) => doc.id) ?? [];
    for (let i = 0; i < 40 && ids().includes("tines/3"); i++) {
      await s.handle!.runFor(250);
      await s.refresh();
    }
    expect(ids()).toContain("tines/2");
    expect(ids()).not.toContain("tines/3");
    s.openDocument("tines/2");
    for (let i = 0; i < 40 && !Array.isArray(s.state.get().openDocument?.revisions); i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    const open = s.state.get().openDocument!;
    expect(JSON.parse(open.text)).toEqual({ tines: 4, oiled: true });
    expect(Array.isArray(open.revisions), String(open.revisions)).toBe(true);
    const revisions = open.revisions as readonly RevisionView[];
    expect(revisions.map((r) => r.body)).toContainEqual({ tines: 4, oiled: true });
    expect(revisions.find((r) => r.attachments.some((a) => a.name === "care.txt"))).toBeDefined();
    await s.openAttachment("care.txt");
    expect(s.state.get().openDocument?.attachment).toMatchObject({
      name: "care.txt",
      contentType: "text/plain",
      text: "Oil the tines before winter.",
    });
    await s.dispose();
  });
});

describe("PlaygroundSession: what the engine did, on screen", () => {
  it("Rachis up close: after Create Pitchfork every server's commit index is the leader's; the panel's feed has Raft messages while watched", async () => {
    const s = session("rachis-up-close");
    await s.open();
    s.watchRachis(true);
    await s.nextStep(); // kill A: B or C leads
    await s.nextStep(); // create Pitchfork
    await s.handle!.runFor(500);
    await s.refresh();
    const { rachis, raftMessages } = s.state.get();
    expect(rachis[0]).toBeNull(); // A is down
    const leader = rachis.find((v) => v?.role === "leader")!;
    expect(leader.term).toBeGreaterThan(1);
    expect(rachis.slice(1).map((v) => v?.commit)).toEqual([leader.commit, leader.commit]);
    expect(leader.entries.some((entry) => /Pitchfork/.test(entry.text))).toBe(true);
    expect(raftMessages.some((m) => m.kind === "append")).toBe(true);
    expect(raftMessages.some((m) => m.dropped && m.to === "A")).toBe(true);
    s.watchRachis(false);
    expect(s.state.get().raftMessages).toEqual([]);
    await s.dispose();
  });

  it("kicking the tires: with A dead, no batch toward A is shown as applied; its failed sends are, dimmed", async () => {
    const s = session("kicking-the-tires");
    await s.open();
    await s.nextStep(); // kill A
    await s.nextStep(); // Pitchfork fails
    await s.nextStep(); // users/3 on B
    await s.handle!.runFor(2_000);
    const { timeline, flows } = s.state.get();
    const towardA = timeline.filter((e) => e.where === "B→A");
    expect(towardA.length).toBeGreaterThan(0);
    expect(towardA.every((e) => e.category === "failed" && e.muted)).toBe(true);
    expect(towardA.some((e) => /users\/3 not delivered/.test(e.text))).toBe(true);
    expect(timeline.some((e) => /replicate/.test(e.text))).toBe(false);
    expect(flows.filter((f) => f.to === "A").every((f) => f.failed)).toBe(true);
    await s.dispose();
  });
});

describe("PlaygroundSession: the reader's own actions and the clock", () => {
  it("creates a database, writes, edits and deletes documents on the selected server, and cuts and heals the network", async () => {
    const s = session("first-cluster");
    await s.open();
    await s.createDatabase("Spade", 1);
    await s.refresh();
    let state = s.state.get();
    // The result appears next to the New database form, not at the foot of the playground.
    expect(state.message).toEqual({
      text: "Created Spade on A.",
      error: false,
      area: "new-database",
    });
    expect(state.selectedDatabase).toBe("Spade");
    await s.saveDocument("users/9", '{ "name": "<i>text</i>" }');
    await s.refresh();
    expect(s.state.get().documents?.map((d) => d.id)).toEqual(["users/9"]);
    s.openDocument("users/9");
    expect(s.state.get().openDocument?.text).toBe('{\n  "name": "<i>text</i>"\n}');
    await s.saveDocument("users/9", "{ not json");
    expect(s.state.get().message?.error).toBe(true);
    await s.deleteDocument("users/9");
    await s.refresh();
    expect(s.state.get().documents).toEqual([]);
    await s.addNode("127.0.0.9:8080");
    expect(s.state.get().message?.text).toMatch(/No server runs at http:\/\/127\.0\.0\.9:8080/);
    await s.startServer();
    expect(s.state.get().servers).toHaveLength(3);
    await s.cut([url(1)]);
    state = s.state.get();
    expect(state.cuts).toEqual([{ a: [url(1)], b: [url(2), url(3)] }]);
    await s.heal();
    expect(s.state.get().cuts).toEqual([]);
    expect(
      s.state
        .get()
        .timeline.filter((e) => e.category === "action")
        .map((e) => e.text),
    ).toContain("Heal the network");
    await s.dispose();
  });

  it("pauses and resumes the simulator's clock without losing its servers", async () => {
    const s = session("kicking-the-tires");
    await s.open();
    await s.pause();
    expect(s.state.get().phase).toBe("paused");
    await s.resume();
    expect(s.state.get().phase).toBe("running");
    expect(s.handle!.describe().databases[0]!.members).toHaveLength(2);
    await s.dispose();
  });
});

describe("PlaygroundSession: Next step after the reader used the panels", () => {
  it("skips what the reader already did (Spade created by hand) and keeps going", async () => {
    const s = session("first-cluster");
    await s.open();
    expect(await s.createDatabase("Spade", 1)).toBe(true);
    await s.refresh();
    expect(s.state.get().step.alreadyDone).toEqual(["Spade already exists"]);
    await s.nextStep();
    let state = s.state.get();
    expect(state.step.failed).toBeNull();
    expect(state.step.done).toBe(1);
    expect(state.message).toMatchObject({ error: false, area: "step" });
    expect(state.message?.text).toMatch(/Already done by hand: Spade already exists/);
    expect(state.step.nextTitle).toBe("Write users/1 and users/2 to Spade on A");
    await allSteps(s);
    state = s.state.get();
    expect(state.step.done).toBe(state.step.total);
    expect(s.handle!.describe().databases.find((db) => db.name === "Spade")?.members).toEqual([
      "A",
      "B",
    ]);
    await s.dispose();
  });

  it("says what differs when a step cannot run, and Skip this step moves past it", async () => {
    const s = session("kicking-the-tires");
    await s.open();
    await s.nextStep(); // kill A
    await s.nextStep(); // Pitchfork fails
    await s.kill(url(2)); // the reader kills B, where the next step writes users/3
    await s.nextStep();
    let state = s.state.get();
    expect(state.step.done).toBe(2);
    expect(state.step.failed).toMatch(/node B is down, so it cannot take users\/3/);
    expect(state.message).toMatchObject({ error: true, area: "step" });
    await s.skipStep();
    state = s.state.get();
    expect(state.step.done).toBe(3);
    expect(state.step.failed).toBeNull();
    expect(state.step.explanation).toMatch(/You skipped/);
    await s.dispose();
  });

  it("asks for a prediction before a step and reveals the answer after it", async () => {
    const s = session("kicking-the-tires");
    await s.open();
    await s.nextStep(); // kill A
    const before = s.state.get().step;
    expect(before.predict?.choices.length).toBeGreaterThan(1);
    s.pick(0);
    expect(s.state.get().step.picked).toBe(0);
    await s.nextStep();
    const reveal = s.state.get().step.reveal;
    expect(reveal).toMatchObject({ picked: 0, answer: 1 });
    expect(reveal?.explain).toMatch(/majority/);
    // The answered question is gone; the next step (the write on B) asks its own.
    expect(s.state.get().step.predict?.question).toMatch(/write users\/3/);
    expect(s.state.get().step.picked).toBeNull();
    await s.dispose();
  });
});

describe("PlaygroundSession: the action log, Back one step and links", () => {
  it("Back one step replays all but the last action on fresh servers", async () => {
    const s = session("first-cluster");
    await s.open();
    await s.nextStep(); // Spade on A
    await s.nextStep(); // users/1 and users/2
    expect(await s.kill(url(1))).toBe(true);
    let state = s.state.get();
    expect(state.logged).toBe(3);
    expect(state.undo).toBe("Kill node A");
    const before = s.name;
    await s.back();
    state = s.state.get();
    expect(s.name).not.toBe(before); // a fresh cluster, not the old one patched
    expect(state.logged).toBe(2);
    expect(state.step.done).toBe(2);
    expect(state.servers[0]).toMatchObject({ tag: "A", alive: true });
    expect(s.handle!.describe().documents["A"]?.["Spade"]).toEqual(["users/1", "users/2"]);
    await s.back(); // the second step
    expect(s.state.get().step.done).toBe(1);
    expect(s.handle!.describe().documents["A"]?.["Spade"]).toEqual([]);
    await s.dispose();
  });

  it("a link carries the log: another playground replays it to the same step and state", async () => {
    const s = session("kicking-the-tires");
    await s.open();
    await s.nextStep(); // kill A
    await s.cut([url(2)]); // nothing left to cut off from, but it is the reader's action
    const text = s.shareText();
    expect(s.shareLink("https://book.example/chapter/kicking-the-tires/#old")).toBe(
      `https://book.example/chapter/kicking-the-tires/#rk=${text}`,
    );
    await s.dispose();

    const other = session("kicking-the-tires");
    await other.open(text);
    const state = other.state.get();
    expect(state.step.done).toBe(1);
    expect(state.logged).toBe(2);
    expect(state.servers[0]).toMatchObject({ tag: "A", alive: false });
    expect(state.cuts).toHaveLength(1);
    await other.dispose();

    // A link for another chapter, or a damaged one, starts the section as usual.
    const third = session("first-cluster");
    await third.open(text);
    expect(third.state.get().logged).toBe(0);
    await third.dispose();
    const fourth = session("kicking-the-tires");
    await fourth.open(text.slice(0, 20));
    expect(fourth.state.get().message).toMatchObject({ error: true, area: "share" });
    expect(fourth.state.get().phase).toBe("running");
    await fourth.dispose();
  });
});

describe("PlaygroundSession: the chapter pages' clients", () => {
  it("load balancing: client 1 reads from the preferred node, client 2 round robin; a cut-off client reads elsewhere", async () => {
    const s = session("load-balancing");
    await s.open();
    expect(s.state.get().clients.map((c) => c.name)).toEqual(["Client 1", "Client 2"]);
    await s.nextStep(); // client 1, read balance none
    let [one] = s.state.get().clients;
    const reads = one!.requests.filter((r) => r.what === "load users/1");
    expect(reads).toHaveLength(3);
    expect(new Set(reads.map((r) => `${r.node} ${r.why}`))).toEqual(
      new Set(["A the preferred node"]),
    );
    expect(one!.topology.map((n) => n.tag)).toEqual(["A", "B", "C"]);
    await s.nextStep(); // client 2, round robin
    let two = s.state.get().clients[1]!;
    expect(two.readBalance).toBe("roundRobin");
    const spread = new Set(
      two.requests.filter((r) => r.what === "load users/1").map((r) => r.node),
    );
    expect(spread.size).toBeGreaterThan(1);
    await s.setSpeed(1); // the cut-off client waits its request timeout in real time
    await s.cutClientOff(1, [url(1)]);
    expect(await s.loadThrough(1, "users/1")).toBe(true);
    expect(await s.loadThrough(1, "users/1")).toBe(true);
    two = s.state.get().clients[1]!;
    expect(two.cutOff).toEqual([url(1)]);
    const answered = two.requests.filter((r) => r.ok && r.what === "load users/1").slice(0, 2);
    expect(answered.map((r) => r.node)).not.toContain("A");
    expect(s.state.get().message?.text).toMatch(/Client 2 read users\/1 from node [BC]/);
    [one] = s.state.get().clients;
    expect(one!.cutOff).toEqual([]);
    await s.dispose();
  });

  it("load balancing by Next step: a client cut off from every server fails only then, and fastest node settles on one node (claims 13 and 15)", async () => {
    const s = session("load-balancing");
    await s.open();
    await s.setSpeed(1); // the cut-off client waits its request timeouts in real time
    await allSteps(s);
    const [one, two] = s.state.get().clients;
    expect(two!.cutOff).toEqual([url(1), url(2), url(3)]);
    // Newest first: its last read tried all three nodes, and each one failed.
    const last = two!.requests.filter((r) => r.what === "load users/1").slice(0, 3);
    expect(last.map((r) => `${r.node} ${r.ok}`).sort()).toEqual(["A false", "B false", "C false"]);
    expect(one!.readBalance).toBe("fastestNode");
    expect(one!.fastest).toMatch(/^[ABC]$/);
    expect(one!.requests.filter((r) => r.what === "load users/1").every((r) => r.ok)).toBe(true);
    await s.dispose();
  });

  it("write assurance through a client says how long the save waited, and Back one step replays client actions", async () => {
    const s = session("write-assurance");
    await s.open();
    await s.saveThrough(0, "tasks/9", '{ "title": "rake" }', 1);
    expect(s.state.get().message?.text).toMatch(
      /Client 1 saved tasks\/9 on node A; the save waited \d+ ms for 1 replica/,
    );
    await s.setReadBalance(0, "roundRobin");
    expect(s.state.get().logged).toBe(2);
    await s.back();
    expect(s.state.get().clients[0]!.readBalance).toBe("none");
    expect(s.handle!.describe().documents["A"]?.["Spade"]).toContain("tasks/9");
    await s.dispose();
  });
});
