// Every chapter page in Chromium: loads under the base path with its title and no console errors,
// passes axe (no serious or critical violations) in the light and the dark theme, and fits a
// 390 px wide screen. Then the site's furniture: sidebar, previous/next, search and theme switch.
import assert from "node:assert/strict";
import { it } from "node:test";
import { colourRules, inBothThemes, siteChrome, violations } from "./axe.mjs";
import { chapters } from "./chapters.mjs";

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

export function registerPageChecks(context) {
  it("every page loads with its title and no console errors, and axe finds nothing of any impact, light and dark", async () => {
    const { page, errors, close } = await openPage(context, { theme: "light" });
    try {
      const problems = [];
      for (const [index, chapter] of chapters.entries()) {
        const url = context.site.url(chapter.path);
        const response = await page.goto(url, { waitUntil: "load" });
        assert.equal(response?.status(), 200, `${url} answered ${response?.status()}`);
        assert.equal(await page.locator("html").getAttribute("data-theme"), "light");
        const heading = (await page.locator("main h1").first().textContent())?.trim();
        assert.equal(heading, chapter.title, `h1 of ${url}`);
        assert.ok(
          (await page.title()).startsWith(chapter.title),
          `<title> of ${url}: ${await page.title()}`,
        );
        // The header and the sidebar are the same on every page: checked on the first one only.
        const scope = index === 0 ? {} : { exclude: siteChrome };
        for (const problem of await inBothThemes(page, scope))
          problems.push(`${chapter.path || "/"} ${problem}`);
      }
      assert.deepEqual(errors, [], `errors while loading the pages:\n${errors.join("\n")}`);
      assert.deepEqual(problems, [], `axe:\n${problems.join("\n")}`);
    } finally {
      await close();
    }
  });

  it("a page opened in the dark theme is dark from its first paint, and passes axe's colour rules", async () => {
    const { page, errors, close } = await openPage(context, { theme: "dark" });
    try {
      await page.goto(context.site.url("chapter/two-layers/"));
      assert.equal(await page.locator("html").getAttribute("data-theme"), "dark");
      assert.deepEqual(await violations(page, { rules: colourRules }), []);
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });

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
