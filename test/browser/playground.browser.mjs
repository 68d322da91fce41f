// The playgrounds in Chromium, on the built book: the chapter's walkthrough by clicking, Next step,
// Kill/Restart as workers disappearing and coming back with their data, reload, the 390 px layout
// and axe on a playground full of state; and the storage conformance suite against real IndexedDB.
import assert from "node:assert/strict";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { inBothThemes } from "./axe.mjs";
import { build } from "esbuild";
import {
  openPlaygroundPage,
  serverWorkers,
  settled,
  until,
  untilEqual,
  waitMs,
} from "./playground-page.mjs";

const url = (n) => `http://127.0.0.${n}:8080`;

async function clickNext(playground, { keyboard = false } = {}) {
  const page = playground.page();
  const before = Number(await playground.getAttribute("data-step"));
  const next = playground.getByRole("button", { name: "Next step", exact: true });
  if (keyboard) {
    await next.focus();
    await page.keyboard.press("Enter");
  } else {
    await next.click();
  }
  await page.waitForSelector(`.rk-playground[data-step="${before + 1}"][data-busy="false"]`, {
    timeout: waitMs,
  });
}

const panel = (playground, name) =>
  playground
    .locator("section.rk-panel")
    .filter({ has: playground.page().getByRole("heading", { name, exact: false }) })
    .first();
const tags = (playground) => playground.locator(".rk-servers .rk-tag").allTextContents();
const documentIds = (playground) => playground.locator(".rk-documents button").allTextContents();

async function selectServer(playground, n) {
  await playground
    .locator(".rk-tab")
    .filter({ hasText: `127.0.0.${n}:8080` })
    .click();
  await until(
    `server ${n} selected`,
    async () =>
      (await playground.locator(".rk-tab-on").textContent()).includes(`127.0.0.${n}:8080`) ||
      "not yet",
  );
}

async function newDocument(playground, id, json) {
  await playground.getByRole("button", { name: "New document", exact: true }).click();
  await playground.getByLabel("Id").fill(id);
  await playground.getByLabel("Contents (JSON)").fill(json);
  await playground.getByRole("button", { name: "Save", exact: true }).click();
  await settled(playground.page());
  // The result appears next to the Save button, in the Documents panel.
  const message = await playground.locator('.rk-result[data-area="documents"]').textContent();
  assert.match(message, new RegExp(`Saved ${id}`), message);
}

async function databaseStatus(playground, name) {
  const item = playground.locator(".rk-database").filter({ hasText: name });
  if ((await item.count()) === 0) return "not listed";
  return (await item.locator(".rk-status").textContent()).trim();
}

/** dump adds what the playground showed to a failure, so a red run says what the reader saw. */
async function dump(playground, error) {
  const text = await playground.innerText({ timeout: 2_000 }).catch(() => "(no playground)");
  error.message = `${error.message}\n--- the playground showed:\n${text.slice(text.indexOf("Databases"), text.indexOf("Databases") + 2_500)}`;
  throw error;
}

export function registerPlaygroundChecks(context) {
  it("the chapter's walkthrough by clicking: Spade on A … five nodes and Pitchfork with factor 3", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/first-cluster/",
    );
    try {
      await untilEqual("two servers, both ?", () => tags(playground), ["?", "?"]);
      await untilEqual("one worker per server", () => serverWorkers(page), 2);

      // Spade on the first server: it bootstraps a cluster of one and becomes A.
      await playground.getByRole("button", { name: "New database", exact: true }).click();
      await playground.getByLabel("Name", { exact: true }).fill("Spade");
      await playground.getByLabel("Replication factor").fill("1");
      await playground.getByRole("button", { name: "Create", exact: true }).click();
      await settled(page);
      await until(
        "server 1 to be A and leader",
        async () =>
          ((await tags(playground))[0] === "A" &&
            (await playground.locator(".rk-leader").count()) === 1) ||
          (await tags(playground)),
      );

      await until(
        "Spade Online on A",
        async () =>
          (await databaseStatus(playground, "Spade")) === "Online" ||
          (await databaseStatus(playground, "Spade")),
      );
      await newDocument(playground, "users/1", '{ "name": "Oren", "lastName": "Eini" }');
      await newDocument(playground, "users/2", '{ "name": "<b>Ayende</b>" }');
      await until(
        "users on A",
        async () =>
          JSON.stringify(await documentIds(playground)) === '["users/1","users/2"]' ||
          (await documentIds(playground)),
      );
      // Contents are text: the markup in the name is shown, not rendered.
      await playground.getByRole("button", { name: "users/2", exact: true }).click();
      assert.match(await playground.getByLabel("Contents (JSON)").inputValue(), /<b>Ayende<\/b>/);
      assert.equal(await playground.locator(".rk-playground b").count(), 0);

      // The second server: no databases, tag ?.
      await selectServer(playground, 2);
      assert.equal((await tags(playground))[1], "?");
      assert.match(
        await panel(playground, "Databases").textContent(),
        /No databases on this server's Studio/,
      );

      // Add node from A: the second server becomes B; Spade is Offline there.
      await selectServer(playground, 1);
      await playground.getByLabel("URL", { exact: true }).fill(url(2));
      await playground.getByRole("button", { name: "Add node", exact: true }).click();
      await settled(page);
      await until(
        "B to join",
        async () => (await tags(playground))[1] === "B" || (await tags(playground)),
      );
      await selectServer(playground, 2);
      await until(
        "Spade Offline on B",
        async () =>
          (await databaseStatus(playground, "Spade")) === "Offline" ||
          (await databaseStatus(playground, "Spade")),
      );

      // Manage group → Add node to group: the documents arrive on B.
      await playground.getByRole("button", { name: "Manage group of Spade", exact: true }).click();
      await playground.getByLabel("Node", { exact: true }).selectOption("B");
      await playground.getByRole("button", { name: "Add node to group", exact: true }).click();
      await settled(page);
      await until(
        "Spade Online on B with both users",
        async () =>
          ((await databaseStatus(playground, "Spade")) === "Online" &&
            (await documentIds(playground)).length === 2) ||
          (await documentIds(playground)),
      );

      // Kill A: its worker disappears, and B sees no leader.
      await playground.getByRole("button", { name: "Kill node A", exact: true }).click();
      await settled(page);
      await until(
        "A's worker to be gone",
        async () => serverWorkers(page) === 1 || serverWorkers(page),
      );
      await until(
        "no leader",
        async () =>
          /sees no leader/.test(await panel(playground, "Cluster").textContent()) ||
          "still a leader",
      );

      // users/3 on B without a leader.
      await newDocument(playground, "users/3", '{ "name": "Written on B without a leader" }');

      // Restart A: a new worker, a leader again, and users/3 reaches A.
      await playground.getByRole("button", { name: "Restart node A", exact: true }).click();
      await settled(page);
      await until(
        "A's worker to be back",
        async () => serverWorkers(page) === 2 || serverWorkers(page),
      );
      await selectServer(playground, 1);
      await until(
        "users/3 on A",
        async () =>
          (await documentIds(playground)).includes("users/3") || (await documentIds(playground)),
      );
      await until(
        "a leader",
        async () => (await playground.locator(".rk-leader").count()) === 1 || "no leader yet",
      );

      // Three more servers, added from A: C, D and E.
      for (const n of [3, 4, 5]) {
        await playground.getByRole("button", { name: "Start a new server", exact: true }).click();
        await settled(page);
        await playground.getByLabel("URL", { exact: true }).fill(url(n));
        await playground.getByRole("button", { name: "Add node", exact: true }).click();
        await settled(page);
      }
      await until(
        "five nodes",
        async () =>
          JSON.stringify(await tags(playground)) === '["A","B","C","D","E"]' ||
          (await tags(playground)),
      );
      await untilEqual("five server workers", () => serverWorkers(page), 5);

      // From D: Spade is Offline; Pitchfork with factor 3 lands on three servers.
      await selectServer(playground, 4);
      await until(
        "Spade Offline on D",
        async () =>
          (await databaseStatus(playground, "Spade")) === "Offline" ||
          (await databaseStatus(playground, "Spade")),
      );
      await playground.getByRole("button", { name: "New database", exact: true }).click();
      await playground.getByLabel("Name", { exact: true }).fill("Pitchfork");
      await playground.getByLabel("Replication factor").fill("3");
      await playground.getByRole("button", { name: "Create", exact: true }).click();
      await settled(page);
      const pitchfork = playground.locator(".rk-database").filter({ hasText: "Pitchfork" });
      await until(
        "Pitchfork on three members",
        async () =>
          (await pitchfork.locator(".rk-chip-member").count()) === 3 ||
          (await pitchfork.textContent()),
      );

      // A playground full of state passes axe, in the light theme and the dark one.
      assert.deepEqual(await inBothThemes(page, { include: [".rk-playground"] }), [], "axe");
      assert.deepEqual(errors, []);
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });

  it("Next step replays Kicking the tires; Kill removes a worker, Restart brings it back with its data; a reload keeps everything", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/kicking-the-tires/",
    );
    try {
      await untilEqual("A and B after the section's setup", () => tags(playground), ["A", "B"]);
      await untilEqual("two server workers", () => serverWorkers(page), 2);
      // By keyboard: focus Next step and press Enter. Step 1 kills A.
      await clickNext(playground, { keyboard: true });
      await until(
        "A's worker to be gone",
        async () => serverWorkers(page) === 1 || serverWorkers(page),
      );
      // B learns that A is gone only when its election timer runs out, a moment after the kill.
      await until("B to see no leader", async () => {
        const text = await panel(playground, "Cluster").textContent();
        return /sees no leader/.test(text) || text;
      });

      await clickNext(playground); // creating Pitchfork fails without a leader
      assert.match(
        await playground.locator('.rk-result[data-area="step"]').textContent(),
        /failed, as expected/,
      );
      await clickNext(playground); // users/3 on B
      await until(
        "users/3 on B",
        async () =>
          (await documentIds(playground)).includes("users/3") || (await documentIds(playground)),
      );

      // Reload: the servers come back from IndexedDB, A stays down, the walkthrough stays at step 3.
      await page.reload();
      await playground.scrollIntoViewIfNeeded();
      await settled(page);
      assert.match(await playground.locator(".rk-step-text").textContent(), /Step 3 of 4/);
      // The reload starts every server from its storage and stops A again at once; the page
      // hears of the stopped worker, and the panel of A being down, a moment later.
      await untilEqual("A's worker stopped again after the reload", () => serverWorkers(page), 1);
      await playground
        .getByRole("button", { name: "Restart node A", exact: true })
        .waitFor({ state: "visible", timeout: waitMs });
      await until(
        "users/3 on B after the reload",
        async () =>
          (await documentIds(playground)).includes("users/3") || (await documentIds(playground)),
      );
      assert.ok(
        (await playground.locator(".rk-event").count()) > 0,
        "the timeline survives the reload",
      );

      // Step 4 restarts A: its worker is back, with users/1–2 from its own storage and users/3 from B.
      await clickNext(playground);
      await untilEqual("A's worker back after step 4", () => serverWorkers(page), 2);
      await selectServer(playground, 1);
      await until(
        "A's documents",
        async () =>
          JSON.stringify(await documentIds(playground)) === '["users/1","users/2","users/3"]' ||
          (await documentIds(playground)),
      );
      assert.match(await playground.locator(".rk-step-text").textContent(), /free play/);

      // The server switcher follows the arrow keys.
      await playground.locator(".rk-tab-on input").focus();
      await page.keyboard.press("ArrowRight");
      await until(
        "B selected by keyboard",
        async () =>
          (await playground.locator(".rk-tab-on").textContent()).includes("127.0.0.2") || "not yet",
      );

      // Reset returns to the section's start.
      await playground.getByRole("button", { name: "Reset", exact: true }).click();
      await settled(page);
      assert.match(await playground.locator(".rk-step-text").textContent(), /Next: Kill node A/);
      await untilEqual("A and B after Reset", () => tags(playground), ["A", "B"]);
      assert.deepEqual(errors, []);
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });

  it("Listings 6.3 and 6.4 live: B's total dips to $190 between batches without revisions, never with them", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/transaction-atomicity/",
    );
    try {
      // B's total, read straight from its worker back to back while the batches arrive, until B
      // holds the very versions A holds (their change vectors): the heal step is done when the
      // network is whole, not when the batches have landed, and a busy machine lands them later.
      const sampleTotalsOnB = () =>
        page.evaluate(async (timeoutMs) => {
          const session = globalThis.rookeryPlayground;
          const cluster = session.handle;
          const ids = ["accounts/1234-A", "accounts/4321-C", "accounts/48879-B"];
          const read = async (url) => {
            const response = await cluster.network.request(url, {
              type: "get-documents",
              database: "Bank",
              ids,
            });
            return response.ok ? response.result : null;
          };
          const versions = (docs) =>
            JSON.stringify(docs.map((doc) => doc?.metadata["@change-vector"] ?? null));
          // Both transfers are committed on A before the heal: its versions are the ones B gets.
          const onA = await read("http://127.0.0.1:8080");
          if (!onA) return { totals: [], caughtUp: "A did not answer", maxGapMs: 0 };
          const totals = [];
          let maxGapMs = 0;
          let last = performance.now();
          const deadline = last + timeoutMs;
          while (performance.now() < deadline) {
            const onB = await read("http://127.0.0.2:8080");
            // Only the reads after the heal count: nothing reaches B before it.
            if (session.state.get().cuts.length === 0)
              maxGapMs = Math.max(maxGapMs, Math.round(performance.now() - last));
            last = performance.now();
            if (onB) {
              totals.push(onB.reduce((sum, doc) => sum + (doc?.body.amount ?? 0), 0));
              if (versions(onB) === versions(onA)) return { totals, caughtUp: true, maxGapMs };
            }
          }
          return { totals, caughtUp: `B still lacks A's versions after ${timeoutMs} ms`, maxGapMs };
        }, waitMs);
      const round = async () => {
        for (let i = 0; i < 3; i++) await clickNext(playground);
        const sampling = sampleTotalsOnB();
        await clickNext(playground); // heal: the batches go, one transaction each, over the slowed link
        const { totals, caughtUp, maxGapMs } = await sampling;
        assert.equal(caughtUp, true, `B's totals meanwhile: ${[...new Set(totals)]}`);
        return { totals, maxGapMs };
      };
      // At 1× the slowed link holds each message 90 ms (0.3 of half the 600 ms election timeout)
      // and one batch is in flight at a time, so B keeps each state between batches for a round
      // trip, 180 ms or more. Reads answered at most 80 ms apart cannot miss such a state; on a busy
      // machine they are sometimes further apart, and then a missing dip proves nothing: the round
      // is played again from the section's start (a dip missed by dense reads fails at once).
      const denseMs = 80;
      let without;
      for (let attempt = 1; ; attempt++) {
        without = await round();
        if (without.totals.includes(190) || without.maxGapMs <= denseMs || attempt === 3) break;
        console.log(
          `# B's reads were up to ${without.maxGapMs} ms apart and saw no dip: the round again`,
        );
        await playground.getByRole("button", { name: "Reset", exact: true }).click();
        await settled(page);
      }
      assert.ok(
        without.totals.includes(190),
        `without revisions B should show $190 for a moment: ${[...new Set(without.totals)]} (reads up to ${without.maxGapMs} ms apart)`,
      );
      assert.equal(without.totals.at(-1), 200);
      await clickNext(playground); // revisions on, balances reset
      const withRevisions = await round();
      assert.deepEqual(
        [...new Set(withRevisions.totals)],
        [200],
        `with revisions B's total never leaves $200 (reads up to ${withRevisions.maxGapMs} ms apart)`,
      );
      await until(
        "B's total in the documents panel",
        async () =>
          /Total of the accounts on node B: 200/.test(
            await playground.locator(".rk-sum").textContent(),
          ) || (await playground.locator(".rk-sum").textContent()),
      );
      assert.deepEqual(errors, []);
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });

  it("a playground fits a 390 px screen, and pauses when scrolled out of view (its workers suspended, not stopped)", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/expanding/",
      { viewport: { width: 390, height: 844 } },
    );
    try {
      await untilEqual(
        "A, B and three fresh servers after the section's setup",
        () => tags(playground),
        ["A", "B", "?", "?", "?"],
      );
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `the page is ${width} px wide`);
      for (const name of [
        "Next step",
        "Reset",
        "Pause",
        "Kill node A",
        "Add node",
        "New database",
      ]) {
        const box = await playground
          .getByRole("button", { name, exact: true })
          .first()
          .boundingBox();
        assert.ok(
          box && box.x >= 0 && box.x + box.width <= 390,
          `${name} is on screen: ${JSON.stringify(box)}`,
        );
      }
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForSelector('.rk-playground[data-phase="paused"]', { timeout: waitMs });
      assert.equal(serverWorkers(page), 5, "a paused cluster keeps its workers, frozen");
      await playground.scrollIntoViewIfNeeded();
      await settled(page);
      assert.equal(serverWorkers(page), 5);
      assert.deepEqual(await tags(playground), ["A", "B", "?", "?", "?"]);
      assert.deepEqual(errors, []);
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });

  it("the storage conformance suite passes against Chromium's IndexedDB", async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL("./storage-conformance.entry.ts", import.meta.url))],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      alias: { vitest: fileURLToPath(new URL("./mini-vitest.ts", import.meta.url)) },
    });
    const browserContext = await context.browser.newContext();
    try {
      const page = await browserContext.newPage();
      await page.goto(context.site.url("engine/inside/"));
      await page.addScriptTag({ content: bundle.outputFiles[0].text, type: "module" });
      await page.waitForFunction(() => "rookeryConformance" in globalThis, null, {
        timeout: waitMs,
      });
      const results = await page.evaluate(() => globalThis.rookeryConformance);
      const failed = results
        .filter((result) => !result.ok)
        .map((result) => `${result.name}: ${result.error}`);
      assert.ok(results.length >= 15, `only ${results.length} conformance tests ran`);
      assert.deepEqual(failed, []);
    } finally {
      await browserContext.close();
    }
  });
}
