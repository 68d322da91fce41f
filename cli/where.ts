/**
 * Where the CLI runs from: this repository's TypeScript sources (npm run …, through tsx) or an
 * installed package's compiled dist/. A few things differ: benchmarks exist only in a clone, and
 * solutions to exercises are loaded differently.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** fromSource is true when the CLI runs from the repository's .ts files. */
export const fromSource = import.meta.url.endsWith(".ts");

/** packageRoot is the folder of Rookery's package.json (the repository, or the installed package). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, "package.json");
    if (
      existsSync(file) &&
      (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === "rookery"
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`no package.json of rookery above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** version is the package's version, as `rookery --version` prints it. */
export function version(): string {
  return (
    JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }
  ).version;
}

/**
 * invocation is how the user runs `command` from where they are: `npm run sim --` in a clone,
 * `npx rookery sim` where the package is installed. Replay lines and hints print with it.
 */
export function invocation(command: string): string {
  return fromSource ? `npm run ${command} --` : `npx rookery ${command}`;
}

/**
 * userPath resolves a path the way the user typed it. `npm run` moves to the repository's root
 * and says where the user was in INIT_CWD; an installed `rookery` runs where it was started.
 */
export function userPath(path: string): string {
  return resolve(fromSource ? (process.env["INIT_CWD"] ?? process.cwd()) : process.cwd(), path);
}
