// What the engine did, on screen, in Chromium: batch dots that travel on the cluster's clock, no
// replication shown toward a dead server (its failed sends shown as failed), the Rachis panel's
// commit indexes meeting the leader's, and a pause that freezes the servers without an election.
import assert from "node:assert/strict";
import { it } from "node:test";
import { inBothThemes } from "./axe.mjs";
import { openPlaygroundPage, serverWorkers, settled, until, waitMs } from "./playground-page.mjs";

async function clickNext(playground) {
  const page = playground.page();
  const before = Number(await playground.getAttribute("data-step"));
  await playground.getByRole("button", { name: "Next step" }).click();
  await page.waitForSelector(`.rk-playground[data-step="${before + 1}"][data-busy="false"]`, {
    timeout: waitMs,
  });
  const result = playground.locator('.rk-result[data-area="step"]');
  if ((await result.count()) > 0)
    assert.notEqual(await result.getAttribute("data-error"), "true", await result.textContent());
}

/** rachis reads the Rachis panel: per server its tag, role, term and commit index. */
const rachis = (playground) =>
  playground.locator(".rk-rachis-server").evaluateAll((cards) =>
    cards.map((card) => ({
      tag: card.dataset.tag,
      role: card.dataset.role,
      term: card.dataset.term === undefined ? null : Number(card.dataset.term),
      commit: card.dataset.commit === undefined ? null : Number(card.dataset.commit),
    })),
  );

export function registerTraceChecks(context) {
  it("a batch's dot is seen at intermediate positions in successive frames, moving toward its receiver", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/kicking-the-tires/",
    );
    try {
      // At ¼× a dot's trip lasts 1.4 s, long enough for a busy machine to draw several frames.
      await settled(page);
      await playground.getByLabel("Speed").selectOption("0.25");
      // Sample every animation frame from the click on: each dot's place, by its batch.
      const sample = () =>
        page.evaluate(
          () =>
            new Promise((resolve) => {
              const seen = {};
              const started = performance.now();
              const frame = () => {
                for (const dot of document.querySelectorAll(".rk-flow:not(.rk-flow-failed)")) {
                  const id = dot.getAttribute("data-flow");
                  (seen[id] ??= []).push({
                    progress: Number(dot.getAttribute("data-progress")),
                    cx: Number(dot.getAttribute("cx")),
                    cy: Number(dot.getAttribute("cy")),
                  });
                }
                const moving = Object.values(seen).some(
                  (samples) =>
                    new Set(
                      samples
                        .filter((s) => s.progress > 0 && s.progress < 1)
                        .map((s) => s.progress),
                    ).size >= 3,
                );
                if (moving || performance.now() - started > 20_000) resolve(seen);
                else requestAnimationFrame(frame);
              };
              requestAnimationFrame(frame);
            }),
        );
      // A busy machine may miss one trip's frames (or the first send may find a link still
      // opening): up to three writes, each sampled from its click on.
      let seen = {};
      let travelling;
      const newDocument = playground.getByRole("button", { name: "New document", exact: true });
      for (const id of ["users/7", "users/8", "users/9"]) {
        // New document waits for the selected server to report its database Online (a refresh).
        await until("New document to be enabled", async () =>
          (await newDocument.isEnabled())
            ? true
            : {
                phase: await playground.getAttribute("data-phase"),
                busy: await playground.getAttribute("data-busy"),
                panel: await playground
                  .locator("section.rk-panel")
                  .filter({ has: page.locator("h3", { hasText: /^Documents on/ }) })
                  .innerText(),
              },
        );
        await newDocument.click();
        await playground.getByLabel("Id").fill(id);
        await playground.getByLabel("Contents (JSON)").fill('{ "name": "Dot" }');
        const sampling = sample();
        await playground.getByRole("button", { name: "Save", exact: true }).click();
        seen = await sampling;
        travelling = Object.values(seen)
          .map((samples) => samples.filter((s) => s.progress > 0 && s.progress < 1))
          .find((samples) => new Set(samples.map((s) => s.progress)).size >= 3);
        if (travelling) break;
        await settled(page);
      }
      assert.ok(travelling, `no dot seen between its ends in 3 frames: ${JSON.stringify(seen)}`);
      // Frame after frame it moves on: its progress grows and its position changes.
      for (let i = 1; i < travelling.length; i++)
        assert.ok(travelling[i].progress >= travelling[i - 1].progress, JSON.stringify(travelling));
      const places = new Set(travelling.map((s) => `${s.cx},${s.cy}`));
      assert.ok(places.size >= 3, `the dot stood still: ${JSON.stringify(travelling)}`);
      await settled(page);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it("with A killed, nothing is shown replicating to A: each send toward it is a failed send, dimmed, naming the documents", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/kicking-the-tires/",
    );
    try {
      await clickNext(playground); // kill A
      await clickNext(playground); // Pitchfork fails without a leader
      await clickNext(playground); // users/3 on B
      const events = () =>
        playground.locator(".rk-event").evaluateAll((items) =>
          items.map((item) => ({
            at: Number(item.dataset.at),
            category: item.dataset.category,
            muted: item.classList.contains("rk-event-muted"),
            where: item.querySelector(".rk-event-where")?.textContent ?? "",
            text: item.textContent ?? "",
          })),
        );
      await until("a failed send of users/3 toward A", async () =>
        (await events()).some((e) => e.where === "B→A" && /users\/3 not delivered/.test(e.text))
          ? true
          : (await events()).slice(0, 5),
      );
      const all = await events();
      const killedAt = all.find((e) => e.category === "server" && /killed/.test(e.text))?.at;
      assert.ok(killedAt !== undefined, "the timeline shows A killed");
      // From the kill on, every line toward A is a failed send, dimmed: nothing applied there.
      const towardA = all.filter((e) => e.where.endsWith("→A") && e.at > killedAt);
      assert.ok(towardA.length > 0);
      assert.ok(
        towardA.every((e) => e.category === "failed" && e.muted && /not delivered/.test(e.text)),
        JSON.stringify(towardA),
      );
      assert.deepEqual(
        all.filter((e) => /replicate/i.test(e.text)),
        [],
        "no line says 'replicate' (a send as if delivered)",
      );
      // The graph's latest applied batch is never one toward A.
      assert.doesNotMatch(
        await playground.locator(".rk-graph").textContent(),
        /Latest applied batch: \w→A/,
      );
      // A's connections are shown down.
      assert.match(await playground.locator('[data-connection="B-A"]').textContent(), /B→A: down/);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it("Rachis up close: pause → resume starts no new term; after Create Pitchfork every server's commit index reaches the leader's", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(context, "engine/rachis/");
    try {
      assert.equal(await playground.locator("details.rk-rachis").getAttribute("open"), "");
      // Each server pushes its Rachis when it changes: a follower may still show the term before
      // the election for a moment, so the baseline is taken once all three agree on one term.
      await until("three servers with a leader in the panel, all on its term", async () => {
        const rows = await rachis(playground);
        const leaders = rows.filter((r) => r.role === "leader");
        return rows.length === 3 &&
          leaders.length === 1 &&
          rows.every((r) => r.term === leaders[0].term)
          ? true
          : rows;
      });
      const before = await rachis(playground);

      // Pause for ten election timeouts (0.3–0.6 s at this speed): the workers stay, frozen.
      await playground.getByRole("button", { name: "Pause" }).click();
      await page.waitForSelector('.rk-playground[data-phase="paused"]', { timeout: waitMs });
      assert.equal(serverWorkers(page), 3);
      await page.waitForTimeout(4_000);
      await playground.getByRole("button", { name: "Resume" }).click();
      await settled(page);
      await page.waitForTimeout(2_000);
      const after = await rachis(playground);
      assert.deepEqual(
        after.map((r) => [r.tag, r.role, r.term]),
        before.map((r) => [r.tag, r.role, r.term]),
        "a pause caused an election",
      );

      // Kill the leader A, then create Pitchfork: every live server's commit index meets the leader's.
      await clickNext(playground);
      await clickNext(playground);
      await until("every commit index at the leader's", async () => {
        const rows = await rachis(playground);
        const leader = rows.find((r) => r.role === "leader");
        const live = rows.filter((r) => r.commit !== null);
        return leader &&
          live.length === 2 &&
          live.every((r) => r.commit === leader.commit) &&
          leader.term > before[0].term
          ? true
          : rows;
      });
      // The leader's log names the command (the panel shows the log as the leader last pushed it).
      await until("the leader's log to name Pitchfork", async () => {
        const text = await playground.locator(".rk-rachis-leader").textContent();
        return /Pitchfork/.test(text) || text;
      });
      // Restart A: its commit index catches up too.
      await clickNext(playground);
      await until("A's commit index at the leader's", async () => {
        const rows = await rachis(playground);
        const leader = rows.find((r) => r.role === "leader");
        return leader && rows.every((r) => r.commit === leader.commit) ? true : rows;
      });
      await until(
        "the panel to list Raft messages",
        async () => (await playground.locator(".rk-raft-messages li").count()) > 0 || "none yet",
      );
      // The panel full of state (timers, logs, messages) passes axe, light and dark.
      assert.deepEqual(await inBothThemes(page, { include: [".rk-playground"] }), [], "axe");
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
}
