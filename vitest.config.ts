import { defineConfig } from "vitest/config";

// Benchmarks live under test/bench and run through `npm run bench`, never through `npm test`.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    testTimeout: 60_000,
  },
});
