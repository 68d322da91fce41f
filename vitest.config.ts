import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Inside the repository "rookery" is the engine's source, as tsconfig's paths say for the type
// check and tsx for the CLI: an exercise solution that imports "rookery" gets the same module
// instances (RookeryError among them) as the tests, never a compiled dist/ left by `npm pack`.
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Benchmarks live under test/bench and run through `npm run bench`, never through `npm test`.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^rookery\/browser$/, replacement: source("./engine/browser.ts") },
      { find: /^rookery$/, replacement: source("./engine/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    testTimeout: 60_000,
  },
});
