// Builds the book under a non-root base path and serves it from 127.0.0.1 with a tiny static
// server, the way a project page on a static host would (everything lives under the base).
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const contentTypes = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".xml": "application/xml; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
  ".woff2": "font/woff2",
  // Pagefind's index fragments and metadata are binary.
  ".pf_fragment": "application/octet-stream",
  ".pf_index": "application/octet-stream",
  ".pf_meta": "application/octet-stream",
  ".pagefind": "application/octet-stream",
};

/** buildBook runs `astro build` for book/ with BASE_PATH=base into a fresh temporary directory. */
export async function buildBook(base) {
  const outDir = await mkdtemp(join(tmpdir(), "rookery-book-"));
  const astroBin = join(
    dirname(createRequire(import.meta.url).resolve("astro/package.json")),
    "astro.js",
  );
  const started = Date.now();
  await new Promise((resolvePromise, reject) => {
    let output = "";
    const child = spawn(
      process.execPath,
      [astroBin, "build", "--root", join(repoRoot, "book"), "--outDir", outDir],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          BASE_PATH: base,
          ASTRO_TELEMETRY_DISABLED: "1",
          ASTRO_DISABLE_UPDATE_CHECK: "true",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`astro build failed (exit ${code}):\n${output.slice(-4000)}`)),
    );
  });
  console.log(`# built the book under ${base} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { outDir, cleanup: () => rm(outDir, { recursive: true, force: true }) };
}

/**
 * fileFor maps a URL path under `base` to a file in `root`, or returns undefined when the path is
 * outside the base or would escape the root. Directories serve their index.html.
 */
export async function fileFor(root, base, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath.split(/[?#]/)[0]);
  } catch {
    return undefined;
  }
  if (!path.startsWith(base)) return undefined;
  const local = normalize(join(root, path.slice(base.length)));
  if (local !== root && !local.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  for (const candidate of [local, join(local, "index.html")]) {
    const info = await stat(candidate).catch(() => undefined);
    if (info?.isFile()) return candidate;
  }
  return undefined;
}

/** serve serves `root` at `http://127.0.0.1:<port><base>` and nothing else (404 elsewhere). */
export async function serve(root, base) {
  const server = createServer(async (request, response) => {
    const file = await fileFor(root, base, request.url ?? "/");
    if (!file) {
      const notFound = await fileFor(root, base, `${base}404.html`);
      response.writeHead(404, { "content-type": contentTypes[".html"] });
      if (notFound) createReadStream(notFound).pipe(response);
      else response.end("not found");
      return;
    }
    response.writeHead(200, {
      "content-type": contentTypes[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    createReadStream(file).pipe(response);
  });
  await new Promise((resolvePromise) => server.listen(0, "127.0.0.1", resolvePromise));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    url: (path = "") => `http://127.0.0.1:${port}${base}${path}`,
    close: () => new Promise((resolvePromise) => server.close(() => resolvePromise())),
  };
}
