// Exercise pages in Chromium, on the book built under the base path: the checklist is the exercise
// module's own checks over what the reader clicks in the live playground (worker runtime,
// IndexedDB). It ticks after real clicks; Hint reveals one hint at a time; Show solution shows the
// steps and runs nothing; the solved mark and the record survive a reload; Reset starts again; axe
// in light and dark; 390 px; a CLI-only exercise shows its command and never ticks.
import assert from "node:assert/strict";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { inBothThemes } from "./axe.mjs";
import { build } from "esbuild";
import { openPlaygroundPage, settled, until, untilEqual } from "./playground-page.mjs";

/** openExercise opens an exercise page at engine speed (1×) and waits until its cluster is ready. */
function openExercise(context, id, options = {}) {
  return openPlaygroundPage(context, `exercises/${id}/`, options);
}

const tags = (playground) => playground.locator(".rk-servers .rk-tag").allTextContents();
const states = (playground) =>
  playground
    .locator(".rk-check")
    .evaluateAll((items) =>
      Object.fromEntries(items.map((li) => [li.dataset.check, li.dataset.state])),
    );
const stateOf = async (playground, check) => (await states(playground))[check];

async function dump(playground, error) {
  const text = await playground.innerText({ timeout: 2_000 }).catch(() => "(no playground)");
  error.message = `${error.message}\n--- the playground showed:\n${text.slice(0, 3_000)}`;
  throw error;
}

export function registerExerciseChecks(context) {
  it("in Chromium, every reference solution passes and every known-wrong solution fails on its check, with its words", async () => {
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL("./exercises.entry.ts", import.meta.url))],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      alias: { rookery: fileURLToPath(new URL("../../engine/index.ts", import.meta.url)) },
    });
    const browserContext = await context.browser.newContext();
    try {
      const page = await browserContext.newPage();
      // A blank page: the runs need no site, only Chromium's JavaScript (the simulator, in memory).
      await page.setContent("<!doctype html><title>Exercises in Chromium</title>");
      await page.addScriptTag({ content: bundle.outputFiles[0].text, type: "module" });
      await page.waitForFunction(() => "rookeryExercises" in globalThis, null, { timeout: 30_000 });
      const runs = await page.evaluate(() => globalThis.rookeryExercises);
      const references = runs.filter((run) => run.solution === "reference");
      const wrong = runs.filter((run) => run.solution !== "reference");
      assert.ok(references.length >= 11, `only ${references.length} exercises ran`);
      assert.ok(wrong.length >= 2 * references.length, `only ${wrong.length} wrong solutions ran`);
      assert.deepEqual(
        references
          .filter((run) => run.status !== "pass")
          .map((run) => `${run.exercise}: ${run.message}`),
        [],
      );
      assert.deepEqual(
        wrong
          .filter((run) => run.status !== "fail" || run.ok || !run.detail.includes(run.expected))
          .map(
            (run) =>
              `${run.solution}: ${run.status}, ${run.check} ${run.ok ? "held" : `said “${run.detail}”`}`,
          ),
        [],
      );
    } finally {
      await browserContext.close();
    }
  });

  it("exercise 2 under the base path: Hint, Show solution (runs nothing), the checklist ticks after real clicks, solved survives a reload, Reset, axe", async () => {
    const { page, playground, errors, close } = await openExercise(context, "grow-group");
    try {
      // The starting state: Spade on A with two users, a fresh second server; nothing holds yet.
      await untilEqual("A and a fresh second server", () => tags(playground), ["A", "?"]);
      await until(
        "the first check run",
        async () =>
          (await playground.locator('[role="status"]').first().textContent()).includes(
            "0 of 4 checks hold",
          ) || "not yet",
      );
      assert.deepEqual(Object.values(await states(playground)), ["open", "open", "open", "open"]);
      assert.equal(await playground.locator(".rk-exercise").getAttribute("data-solved"), "false");

      // Hint, by keyboard: one hint at a time.
      const hint = playground.getByRole("button", { name: "Hint", exact: true });
      await hint.focus();
      await page.keyboard.press("Enter");
      assert.equal(await playground.getByRole("list", { name: "Hints" }).locator("li").count(), 1);
      await playground.getByRole("button", { name: "Another hint", exact: true }).click();
      assert.equal(await playground.getByRole("list", { name: "Hints" }).locator("li").count(), 2);

      // Show solution: the steps appear; nothing runs (B stays "?", no check holds, no action in the timeline).
      const show = playground.getByRole("button", { name: "Show solution", exact: true });
      assert.equal(await show.getAttribute("aria-expanded"), "false");
      await show.click();
      const solution = playground.locator(".rk-solution");
      assert.ok(await solution.isVisible());
      assert.equal(await solution.locator("li").count(), 3);
      assert.match(await solution.textContent(), /addDatabaseNode/);
      assert.equal(
        await playground
          .getByRole("button", { name: "Hide solution", exact: true })
          .getAttribute("aria-expanded"),
        "true",
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.deepEqual(await tags(playground), ["A", "?"]);
      assert.deepEqual(Object.values(await states(playground)), ["open", "open", "open", "open"]);
      assert.equal(
        await playground.locator(".rk-event").filter({ hasText: "Add node" }).count(),
        0,
      );

      // The goal's first step by clicking: add 127.0.0.2 to the cluster; "joined as node B" ticks.
      await playground.getByLabel("URL", { exact: true }).fill("http://127.0.0.2:8080");
      await playground.getByRole("button", { name: "Add node", exact: true }).click();
      await settled(page);
      await until(
        "b-joined to tick",
        async () =>
          (await stateOf(playground, "b-joined")) === "done" || (await states(playground)),
      );
      assert.equal(await stateOf(playground, "b-member"), "open");
      assert.match(
        await playground.locator('.rk-check[data-check="b-joined"]').textContent(),
        /127\.0\.0\.2 is node B/,
      );

      // The rest: B into Spade's group; every line ticks and the exercise is solved.
      await playground.getByRole("button", { name: "Manage group of Spade", exact: true }).click();
      await playground.getByLabel("Node", { exact: true }).selectOption("B");
      await playground.getByRole("button", { name: "Add node to group", exact: true }).click();
      await settled(page);
      await until(
        "every check to hold",
        async () =>
          Object.values(await states(playground)).every((s) => s === "done") ||
          (await states(playground)),
      );
      await until(
        "the solved mark",
        async () =>
          (await playground.locator(".rk-exercise").getAttribute("data-solved")) === "true" ||
          "not solved",
      );
      assert.match(await playground.locator(".rk-solved").textContent(), /Solved/);

      // axe over the whole page, light and dark, with the checklist ticked and the solution shown.
      assert.deepEqual(await inBothThemes(page, { include: ["main"] }), [], "axe");

      // Reload: the servers come back from IndexedDB, the record from localStorage: still solved, still ticked.
      await page.reload();
      await playground.scrollIntoViewIfNeeded();
      await settled(page);
      assert.equal(await playground.locator(".rk-exercise").getAttribute("data-solved"), "true");
      await untilEqual("A and B back after the reload", () => tags(playground), ["A", "B"]);
      await until(
        "the checks to hold again after the reload",
        async () =>
          Object.values(await states(playground)).every((s) => s === "done") ||
          (await states(playground)),
      );

      // Reset: the starting state again, an open checklist; the solved mark stays.
      await playground.getByRole("button", { name: "Reset", exact: true }).click();
      await settled(page);
      await untilEqual("A and a fresh second server after Reset", () => tags(playground), [
        "A",
        "?",
      ]);
      await until(
        "an open checklist after Reset",
        async () =>
          Object.values(await states(playground)).every((s) => s === "open") ||
          (await states(playground)),
      );
      assert.equal(await playground.locator(".rk-exercise").getAttribute("data-solved"), "true");

      // The exercises' index shows the mark, and only for this exercise.
      await page.goto(context.site.url("exercises/"));
      const item = (id) => page.locator(`.rk-index-item[data-exercise="${id}"]`);
      assert.equal(await item("grow-group").getAttribute("data-solved"), "true");
      assert.match(await item("grow-group").textContent(), /solved on/);
      assert.equal(await item("bootstrap").getAttribute("data-solved"), "false");
      assert.match(
        await page.locator("#rk-index-summary").textContent(),
        /^1 of \d+ exercises solved in this browser\.$/,
      );
      await item("grow-group").getByRole("link").click();
      await page.waitForURL(context.site.url("exercises/grow-group/"));
      assert.deepEqual(errors, []);
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });

  it("exercise 4: the Client panel's store fails over after its preferred node is killed, and the checks say so", async () => {
    const { page, playground, errors, close } = await openExercise(context, "failover");
    try {
      await untilEqual("A, B and C", () => tags(playground), ["A", "B", "C"]);
      const client = playground
        .locator("section.rk-panel")
        .filter({ has: page.getByRole("heading", { name: "Client" }) });
      await client.getByLabel("Document id").fill("users/1");
      await client.getByRole("button", { name: "Save through the client", exact: true }).click();
      await settled(page);
      assert.match(
        await playground.locator('.rk-result[data-area="client"]').textContent(),
        /The client saved users\/1 on node A/,
      );
      await until(
        "the client to name its preferred node",
        async () =>
          /prefers node A/.test(await client.textContent()) || (await client.textContent()),
      );
      await playground.getByRole("button", { name: "Kill node A", exact: true }).click();
      await settled(page);
      await until(
        "preferred-killed to tick",
        async () =>
          (await stateOf(playground, "preferred-killed")) === "done" || (await states(playground)),
      );
      await client.getByLabel("Document id").fill("users/2");
      await client.getByRole("button", { name: "Save through the client", exact: true }).click();
      await settled(page);
      assert.match(
        await playground.locator('.rk-result[data-area="client"]').textContent(),
        /The client saved users\/2 on node [BC]/,
      );
      await until(
        "every check to hold",
        async () =>
          Object.values(await states(playground)).every((s) => s === "done") ||
          (await states(playground)),
      );
      assert.deepEqual(errors, []);
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });

  it("an exercise page fits 390 px; a CLI-only exercise shows its command and never ticks", async () => {
    const { page, playground, close } = await openExercise(context, "partial-transaction", {
      viewport: { width: 390, height: 844 },
    });
    try {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `the page is ${width} px wide`);
      for (const name of ["Hint", "Show solution", "Reset", "Save through the client"]) {
        const box = await playground
          .getByRole("button", { name, exact: true })
          .first()
          .boundingBox();
        assert.ok(
          box && box.x >= 0 && box.x + box.width <= 390,
          `${name} is on screen: ${JSON.stringify(box)}`,
        );
      }
      assert.deepEqual([...new Set(Object.values(await states(playground)))], ["cli"]);
      assert.match(
        await playground.locator(".rk-cli pre").textContent(),
        /npm run exercise -- check 6 --solution my-solution\.ts/,
      );
      assert.equal(await playground.locator(".rk-exercise").getAttribute("data-solved"), "false");
    } catch (error) {
      await dump(playground, error);
    } finally {
      await close();
    }
  });
}
