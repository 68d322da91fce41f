/**
 * node scripts/build-package.mjs: builds what the npm package ships (`npm pack` and `npm publish`
 * run it as `prepack`): tsc compiles engine/, cli/ and exercises/ to dist/ with .d.ts files, then
 * the few things tsc leaves alone are finished here:
 * - `new URL("../worker/server-worker.ts", import.meta.url)` (how a bundler finds the browser's
 *   worker entry) must name the compiled .js; tsc rewrites import specifiers, not URLs.
 * - the bin is made executable.
 * It fails when a URL names a file that is not in dist/, so the package never ships a dangling one.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
const tsc = join(
  dirname(createRequire(import.meta.url).resolve("typescript/package.json")),
  "bin",
  "tsc",
);
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
  stdio: "inherit",
});

const urlOfTs = /new URL\((["'])(\.{1,2}\/[^"']+)\.ts\1, import\.meta\.url\)/g;
let rewritten = 0;
for (const file of filesUnder(dist).filter((f) => f.endsWith(".js"))) {
  const text = readFileSync(file, "utf8");
  const next = text.replace(urlOfTs, (_all, quote, path) => {
    const target = join(dirname(file), `${path}.js`);
    if (!existsSync(target))
      throw new Error(
        `${relative(root, file)} names ${path}.ts, but dist has no ${relative(root, target)}`,
      );
    rewritten++;
    return `new URL(${quote}${path}.js${quote}, import.meta.url)`;
  });
  if (next !== text) writeFileSync(file, next);
}
chmodSync(join(dist, "cli", "bin.js"), 0o755);
const files = filesUnder(dist);
console.log(
  `built dist/: ${files.filter((f) => f.endsWith(".js")).length} modules, ${files.filter((f) => f.endsWith(".d.ts")).length} declaration files, ${rewritten} worker URL(s) rewritten, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
