// Room and flow in Chromium: a playground page gives the playground the whole main column so that
// Next step, the cluster panel and the replication graph share a 1280×800 screen; results appear
// next to the control that caused them; a failed form keeps its input; focus moves to the next
// sensible control after an action; Next step reconciles with what the reader did by hand.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { openPlaygroundPage, settled, until, waitMs } from "./playground-page.mjs";

async function htmlFiles(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await htmlFiles(path)));
    else if (entry.name.endsWith(".html")) found.push(path);
  }
  return found;
}

/** focused describes the element that has focus: its accessible label or its text. */
const focused = (page) =>
  page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return "(the page body)";
    return (
      element.getAttribute("aria-label") ??
      element.id ??
      element.textContent?.trim() ??
      element.tagName
    );
  });

export function registerFlowChecks(context) {
  it("every page with a playground folds its outline away, so the playground gets the main column", async () => {
    const pages = [];
    for (const file of await htmlFiles(context.outDir)) {
      const html = await readFile(file, "utf8");
      if (!html.includes('class="rk-playground')) continue;
      pages.push(file);
      assert.doesNotMatch(
        /<html[^>]*>/.exec(html)?.[0] ?? "",
        /data-has-toc/,
        `${file} has a playground and an outline column (add tableOfContents: false)`,
      );
    }
    assert.ok(pages.length >= 10, `only ${pages.length} pages with a playground`);
  });

  it("at 1280×800 Next step, the cluster panel (five servers) and the replication graph are all on screen at once", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/expanding/",
      { viewport: { width: 1280, height: 800 } },
    );
    try {
      // Scroll the playground's top just below the site's header, as a reader arriving at it would.
      await page.evaluate(() => {
        const nav = document.querySelector("header.header")?.getBoundingClientRect().height ?? 0;
        const top = document.querySelector(".rk-playground").getBoundingClientRect().top;
        window.scrollBy(0, top - nav - 4);
      });
      const inside = async (name, locator) => {
        const box = await locator.boundingBox();
        assert.ok(box, `${name} is not rendered`);
        assert.ok(
          box.x >= 0 && box.y >= 0 && box.x + box.width <= 1280 && box.y + box.height <= 800,
          `${name} is not inside the 1280×800 viewport: ${JSON.stringify(box)}`,
        );
      };
      await inside("Next step", playground.getByRole("button", { name: "Next step", exact: true }));
      await inside(
        "the cluster panel",
        playground
          .locator("section.rk-panel")
          .filter({ has: page.locator("h3", { hasText: /^Cluster$/ }) }),
      );
      await inside("the replication graph", playground.locator("section.rk-graph"));
      await inside("the graph's drawing", playground.locator("section.rk-graph svg"));
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 1280);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it("Next step still works after the reader created Spade by hand; results sit by their control, a failed form keeps its input, focus follows the action", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/first-cluster/",
    );
    try {
      // Spade by hand, in the Databases panel: focus lands on the new database's Manage group.
      await playground.getByRole("button", { name: "New database", exact: true }).click();
      // The form's name field takes focus on the next animation frame (focusSoon).
      await until("focus in the new database's name", async () =>
        (await focused(page)) === "rk-first-cluster-new-db-name" ? true : await focused(page),
      );
      await playground.getByLabel("Name", { exact: true }).fill("Spade");
      await playground.getByRole("button", { name: "Create", exact: true }).click();
      await settled(page);
      const created = playground.locator('.rk-result[data-area="new-database"]');
      assert.match(await created.textContent(), /Created Spade on A/);
      await until("focus on Manage group of Spade", async () =>
        (await focused(page)) === "Manage group of Spade" ? true : await focused(page),
      );

      // The walkthrough knows: its next step is already done by hand.
      await until("Next step to see Spade", async () =>
        /already done by hand: Spade already exists/.test(
          await playground.locator(".rk-next-title").textContent(),
        )
          ? true
          : await playground.locator(".rk-next-title").textContent(),
      );

      // The same name again fails; the form stays open with what was typed, focus in the name.
      await playground.getByRole("button", { name: "New database", exact: true }).click();
      await playground.getByLabel("Name", { exact: true }).fill("Spade");
      await playground.getByRole("button", { name: "Create", exact: true }).click();
      await settled(page);
      assert.equal(await created.getAttribute("data-error"), "true");
      assert.match(await created.textContent(), /Spade/);
      assert.equal(await playground.getByLabel("Name", { exact: true }).inputValue(), "Spade");
      await until("focus back in the name", async () =>
        (await focused(page)) === "rk-first-cluster-new-db-name" ? true : await focused(page),
      );

      // Next step does the rest, again and again, and keeps focus.
      for (let n = 1; n <= 2; n++) {
        await playground.getByRole("button", { name: "Next step", exact: true }).click();
        await page.waitForSelector(`.rk-playground[data-step="${n}"][data-busy="false"]`);
        const result = playground.locator('.rk-result[data-area="step"]');
        assert.equal(await result.getAttribute("data-error"), "false", await result.textContent());
        if (n === 1) assert.match(await result.textContent(), /Already done by hand: Spade/);
        await until("focus back on Next step", async () =>
          (await focused(page)) === "rk-first-cluster-next" ? true : await focused(page),
        );
      }
      assert.match(await playground.locator(".rk-step-text").textContent(), /Step 2 of 6/);

      // Kill: the Kill button turns into Restart, and focus lands on it.
      await playground.getByRole("button", { name: "Kill node A", exact: true }).click();
      await settled(page);
      await until("focus on Restart node A", async () =>
        (await focused(page)) === "Restart node A" ? true : await focused(page),
      );
      assert.match(
        await playground.locator('.rk-result[data-area="servers"]').textContent(),
        /node A was killed/,
      );
      await page.keyboard.press("Enter");
      await settled(page);
      await until("focus on Kill node A again", async () =>
        (await focused(page)) === "Kill node A" ? true : await focused(page),
      );
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it("a shared URL restores the same step in another browser; Back one step undoes the last action on fresh servers", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/kicking-the-tires/",
    );
    let link;
    try {
      await playground.getByRole("button", { name: "Next step", exact: true }).click(); // kill A
      await page.waitForSelector('.rk-playground[data-step="1"][data-busy="false"]');
      await playground.getByRole("button", { name: "Share", exact: true }).click();
      link = await playground.getByLabel("Link to this state").inputValue();
      assert.match(link, /\/chapter\/kicking-the-tires\/#rk=[A-Za-z0-9_-]+$/);
      assert.match(
        await playground.locator('.rk-result[data-area="share"]').textContent(),
        /replays your 1 action/,
      );

      // Back one step: a fresh cluster, with A alive again and the walkthrough at its start.
      await playground.getByRole("button", { name: /^Back one step/ }).click();
      await page.waitForSelector('.rk-playground[data-step="0"][data-busy="false"]');
      await until("A to run again", async () =>
        (await playground.getByRole("button", { name: "Kill node A", exact: true }).count()) === 1
          ? true
          : "not yet",
      );
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }

    // The link in a browser that has never seen the book: the same step, A down, the link
    // taken off the address so a reload keeps the reader's own state.
    const other = await context.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      await other.addInitScript(() => localStorage.setItem("rookery-playground:speed", "1"));
      const page = await other.newPage();
      await page.goto(link);
      const shared = page.locator(".rk-playground");
      await shared.scrollIntoViewIfNeeded();
      await page.waitForSelector('.rk-playground[data-step="1"][data-busy="false"]', {
        timeout: 60_000,
      });
      assert.match(await shared.locator(".rk-step-text").textContent(), /Step 1 of 4: Kill node A/);
      // The replayed step is done before the panels' next refresh shows A down.
      await shared
        .getByRole("button", { name: "Restart node A", exact: true })
        .waitFor({ state: "visible", timeout: waitMs });
      assert.equal(new URL(page.url()).hash, "");
    } finally {
      await other.close();
    }
  });

  it("a client cut off from A reads from another node, while the other client still reads from A", async () => {
    const { page, playground, errors, close } = await openPlaygroundPage(
      context,
      "chapter/load-balancing/",
    );
    try {
      const card = (n) => playground.locator(`.rk-client-card[data-client="${n}"]`);
      const result = playground.locator('.rk-result[data-area="client"]');
      await card(1).getByRole("button", { name: "Load", exact: true }).click();
      await settled(page);
      assert.match(await result.textContent(), /Client 1 read users\/1 from node A/);

      // Client 2 loses its way to A: its read waits for A, gives up and fails over.
      await card(2).getByRole("group", { name: "Can reach" }).getByLabel("A").uncheck();
      await settled(page);
      await card(2).getByRole("button", { name: "Load", exact: true }).click();
      await settled(page);
      assert.match(await result.textContent(), /Client 2 read users\/1 from node [BC]/);
      const lines = await card(2).locator(".rk-client-requests li").allTextContents();
      assert.ok(
        lines.some((line) => /node [BC] \(failover/.test(line)) &&
          lines.some((line) => /node A .*failed/.test(line)),
        `client 2's requests: ${lines.join(" | ")}`,
      );
      await card(1).getByRole("button", { name: "Load", exact: true }).click();
      await settled(page);
      assert.match(await result.textContent(), /Client 1 read users\/1 from node A/);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
}
