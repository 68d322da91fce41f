// Every chapter page in Chromium: loads under the base path with its title and no console errors,
// passes axe (no serious or critical violations) in the light and the dark theme, and fits a
// 390 px wide screen. Then the site's furniture: sidebar, previous/next, search and theme switch.
import assert from "node:assert/strict";
import { it } from "node:test";
import AxeBuilder from "@axe-core/playwright";
import { chapters } from "./chapters.mjs";

const axeTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** openPage opens a page that records console errors, page errors and failed requests. */
async function openPage(context, { theme, viewport = { width: 1280, height: 900 } } = {}) {
  const browserContext = await context.browser.newContext({ viewport });
  if (theme) {
    await browserContext.addInitScript((value) => {
      try {
        localStorage.setItem("starlight-theme", value);
      } catch {}
    }, theme);
  }
  const page = await browserContext.newPage();
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A navigation (click, reload) cancels requests still in flight; that is not a failure.
    const reason = request.failure()?.errorText ?? "";
    if (reason !== "net::ERR_ABORTED") errors.push(`request failed: ${request.url()} (${reason})`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, errors, close: () => browserContext.close() };
}

async function seriousViolations(page) {
  const results = await new AxeBuilder({ page }).withTags(axeTags).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} — ` +
        violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(" "))
          .join(" | "),
    );
}

export function registerPageChecks(context) {
  for (const theme of ["light", "dark"]) {
    it(`every chapter loads with its title, without console errors and without serious axe violations (${theme})`, async () => {
      const { page, errors, close } = await openPage(context, { theme });
      try {
        const problems = [];
        for (const chapter of chapters) {
          const url = context.site.url(chapter.path);
          const response = await page.goto(url, { waitUntil: "load" });
          assert.equal(response?.status(), 200, `${url} answered ${response?.status()}`);
          assert.equal(await page.locator("html").getAttribute("data-theme"), theme);
          const heading = (await page.locator("main h1").first().textContent())?.trim();
          assert.equal(heading, chapter.title, `h1 of ${url}`);
          assert.ok(
            (await page.title()).startsWith(chapter.title),
            `<title> of ${url}: ${await page.title()}`,
          );
          for (const violation of await seriousViolations(page))
            problems.push(`${chapter.path || "/"}: ${violation}`);
        }
        assert.deepEqual(errors, [], `errors while loading the chapters:\n${errors.join("\n")}`);
        assert.deepEqual(problems, [], `axe (${theme}):\n${problems.join("\n")}`);
      } finally {
        await close();
      }
    });
  }

  it("every chapter fits a 390 px wide screen (no sideways scrolling of the page)", async () => {
    const { page, close } = await openPage(context, { viewport: { width: 390, height: 844 } });
    try {
      const overflowing = [];
      for (const chapter of chapters) {
        await page.goto(context.site.url(chapter.path));
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > 390) overflowing.push(`${chapter.path || "/"}: ${width} px`);
      }
      assert.deepEqual(overflowing, []);
    } finally {
      await close();
    }
  });

  it("the sidebar lists every chapter and navigates to it; previous/next follow the reading order", async () => {
    const { page, errors, close } = await openPage(context);
    try {
      await page.goto(context.site.url(""));
      const sidebar = page.getByRole("navigation", { name: "Main" });
      const hrefs = await sidebar
        .locator("a")
        .evaluateAll((links) => links.map((a) => a.getAttribute("href")));
      assert.deepEqual(
        hrefs,
        chapters.map((chapter) => `${context.base}${chapter.path}`),
      );

      await sidebar.getByRole("link", { name: "Kicking the tires" }).click();
      await page.waitForURL(context.site.url("chapter/kicking-the-tires/"));
      assert.equal(await page.locator("main h1").first().textContent(), "Kicking the tires");
      assert.equal(
        await page
          .getByRole("navigation", { name: "Main" })
          .locator('a[aria-current="page"]')
          .textContent()
          .then((t) => t?.trim()),
        "Kicking the tires",
      );

      await page.locator('a[rel="next"]').click();
      await page.waitForURL(context.site.url("chapter/expanding/"));
      await page.locator('a[rel="prev"]').click();
      await page.waitForURL(context.site.url("chapter/kicking-the-tires/"));
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it("search (Pagefind, built with the site) finds Pitchfork and opens the chapter that creates it", async () => {
    const { page, errors, close } = await openPage(context);
    try {
      await page.goto(context.site.url(""));
      await page.locator("site-search button[data-open-modal]").click();
      const input = page.locator("#starlight__search input");
      await input.waitFor({ state: "visible" });
      await input.fill("Pitchfork");
      const results = page.locator(".pagefind-ui__result-link");
      await results.first().waitFor({ state: "visible", timeout: 15_000 });
      const hrefs = await results.evaluateAll((links) => links.map((a) => a.getAttribute("href")));
      const expanding = `${context.base}chapter/expanding/`;
      assert.ok(
        hrefs.some((href) => href?.startsWith(expanding)),
        `results: ${hrefs.join(", ")}`,
      );
      await results.filter({ hasText: "Expanding to five nodes" }).first().click();
      await page.waitForURL((url) => url.pathname === expanding);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

  it("the theme switch turns dark mode on and off, and the choice survives a reload", async () => {
    const { page, errors, close } = await openPage(context, {
      viewport: { width: 1280, height: 900 },
    });
    try {
      await page.emulateMedia({ colorScheme: "light" });
      await page.goto(context.site.url("chapter/two-layers/"));
      const html = page.locator("html");
      assert.equal(await html.getAttribute("data-theme"), "light");
      const select = page.locator("starlight-theme-select select").first();
      const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const lightBackground = await background();

      await select.selectOption("dark");
      assert.equal(await html.getAttribute("data-theme"), "dark");
      assert.notEqual(await background(), lightBackground, "the page colours did not change");
      await page.reload();
      assert.equal(await html.getAttribute("data-theme"), "dark");

      await page.locator("starlight-theme-select select").first().selectOption("light");
      assert.equal(await html.getAttribute("data-theme"), "light");
      assert.equal(await background(), lightBackground);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
}
