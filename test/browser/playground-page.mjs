// What the playground and exercise browser tests share: opening a page with a live playground at
// engine speed, waiting until it is idle, and polling for a condition with a useful failure.
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";

/** Generous for a 2-core machine; at engine speed an election takes 0.3–0.6 s. */
export const waitMs = 30_000;

/**
 * openPlaygroundPage opens `path` of the built site at engine speed (1×), optionally in a theme,
 * collects page and console errors, and waits until its playground's cluster is ready.
 */
export async function openPlaygroundPage(
  context,
  path,
  { viewport = { width: 1280, height: 900 }, theme } = {},
) {
  const browserContext = await context.browser.newContext({ viewport });
  await browserContext.addInitScript((value) => {
    try {
      if (!sessionStorage.getItem("rookery-test-speed")) {
        localStorage.setItem("rookery-playground:speed", "1");
        sessionStorage.setItem("rookery-test-speed", "set");
      }
      if (value) localStorage.setItem("starlight-theme", value);
    } catch {}
  }, theme ?? null);
  const page = await browserContext.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  await page.goto(context.site.url(path));
  const playground = page.locator(".rk-playground");
  await playground.scrollIntoViewIfNeeded();
  await settled(page);
  return { page, playground, errors, close: () => browserContext.close() };
}

/**
 * settled waits until the playground runs and no action or step is in progress. It does not cover
 * what the panels read from the servers afterwards (database statuses, documents: the refresh that
 * follows an action lands a moment later), nor what the engine does on its own after the action
 * (elections, replication, a joining node's tag): wait for those with until/untilEqual.
 */
export async function settled(page) {
  await page.waitForSelector('.rk-playground[data-phase="running"][data-busy="false"]', {
    timeout: waitMs,
  });
}

/** until polls `check` until it returns true; on timeout it fails with the last thing it returned. */
export async function until(what, check) {
  const deadline = Date.now() + waitMs;
  let last;
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * untilEqual polls `read` until what it returns deep-equals `expected`; on timeout it fails naming
 * what it waited for and what it read last.
 */
export async function untilEqual(what, read, expected) {
  await until(what, async () => {
    const value = await read();
    return isDeepStrictEqual(value, expected) ? true : { expected, saw: value };
  });
}

/** serverWorkers counts the page's server workers (one per running server). */
export const serverWorkers = (page) =>
  page.workers().filter((worker) => worker.url().includes("server-worker")).length;
