// `npm start`: serve the book locally with Astro's dev server and print where it is.
// No network is needed: telemetry and the update check are off, and the site loads no CDN assets.
// Search (Pagefind) exists only in built sites: `npm run build && npm run preview` to try it.
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
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
