// `npm start`: serve the book locally with Astro's dev server and print where it is.
// No network is needed: telemetry and the update check are off, and the site loads no CDN assets.
// Search (Pagefind) exists only in built sites: `npm run build && npm run preview` to try it.
//
// The dev server is a child process, and it must not outlive this one: SIGINT and SIGTERM are
// passed on to it, and so is the end of our parent. That last case is `npm start` stopped with
// SIGTERM: npm runs the script through `sh -c`, and the shell dies without passing the signal on.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const astroBin = join(
  dirname(createRequire(import.meta.url).resolve("astro/package.json")),
  "astro.js",
);
const port = process.env.PORT ?? "4321";
const host = "127.0.0.1";
const base = process.env.BASE_PATH ?? "/";
/** How often the parent is looked at, and how long the dev server gets to stop before SIGKILL. */
const parentPollMs = 500;
const stopGraceMs = 5_000;

console.log(
  `Rookery book: starting on http://${host}:${port}${base.startsWith("/") ? base : `/${base}`}`,
);
const child = spawn(
  process.execPath,
  [astroBin, "dev", "--root", here, "--host", host, "--port", port, ...process.argv.slice(2)],
  {
    stdio: "inherit",
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: "1", ASTRO_DISABLE_UPDATE_CHECK: "true" },
  },
);

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  child.kill(signal);
  setTimeout(() => child.kill("SIGKILL"), stopGraceMs).unref();
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop(signal));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop("SIGTERM");
}, parentPollMs).unref();
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
