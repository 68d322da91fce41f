// Browser tests for the book, in real Chromium (Debian's /usr/bin/chromium through playwright-core).
// Builds the site under BASE_PATH=/rookery/ into a temporary directory, serves it on 127.0.0.1 and
// runs the suites below with node:test. Not part of `npm test`: run `npm run test:browser`.
//   ROOKERY_BOOK_DIST=<dir>  reuse a site already built with BASE_PATH=/rookery/ (skips the build)
//   ROOKERY_BROWSER_SUITES=flow,playground  run only these suites (links, pages, flow, playground,
//                            trace, exercise), to iterate on one
import { after, before, describe } from "node:test";
import { chromium } from "playwright-core";
import { registerExerciseChecks } from "./exercise.browser.mjs";
import { registerFlowChecks } from "./flow.browser.mjs";
import { registerLinkChecks } from "./links.browser.mjs";
import { registerPageChecks } from "./pages.browser.mjs";
import { registerPlaygroundChecks } from "./playground.browser.mjs";
import { registerTraceChecks } from "./trace.browser.mjs";
import { buildBook, serve } from "./site.mjs";

const base = "/rookery/";
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Shared by the suites; filled in by the `before` hook. */
const context = { base, outDir: "", site: undefined, browser: undefined };

// The suites use separate browser contexts, so they can run side by side (the axe passes dominate).
describe(`the book built under ${base}`, { concurrency: 4 }, () => {
  let cleanup = async () => {};
  before(async () => {
    if (process.env.ROOKERY_BOOK_DIST) {
      context.outDir = process.env.ROOKERY_BOOK_DIST;
    } else {
      const built = await buildBook(base);
      context.outDir = built.outDir;
      cleanup = built.cleanup;
    }
    context.site = await serve(context.outDir, base);
    context.browser = await chromium.launch({
      executablePath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });
  after(async () => {
    await context.browser?.close();
    await context.site?.close();
    await cleanup();
  });

  const suites = {
    links: registerLinkChecks,
    pages: registerPageChecks,
    flow: registerFlowChecks,
    playground: registerPlaygroundChecks,
    trace: registerTraceChecks,
    exercise: registerExerciseChecks,
  };
  const only = process.env.ROOKERY_BROWSER_SUITES?.split(",").map((name) => name.trim());
  for (const [name, register] of Object.entries(suites))
    if (!only || only.includes(name)) register(context);
});
