// The book: an Astro + Starlight site. `BASE_PATH` sets where it is served from (default "/"),
// `SITE_URL` optionally sets the absolute origin used for canonical links and the sitemap.
import { defineConfig } from "astro/config";
import starlight from "@astrojs/starlight";
import preact from "@astrojs/preact";

function basePath() {
  const raw = (process.env.BASE_PATH ?? "/").trim() || "/";
  const withLeading = raw.startsWith("/") ? raw : `/${raw}`;
  return withLeading.endsWith("/") ? withLeading : `${withLeading}/`;
}

/**
 * An Expressive Code plugin (no extra dependency): makes every code block's <pre> reachable by
 * keyboard, since long lines scroll sideways (axe: scrollable-region-focusable), and marks blocks
 * whose meta says `runnable` — the walkthroughs the book's tests will extract and execute.
 */
const bookCodeBlocks = {
  name: "rookery-book-code-blocks",
  hooks: {
    postprocessRenderedBlock: ({ codeBlock, renderData }) => {
      const runnable = codeBlock.meta.split(/\s+/).includes("runnable");
      const visit = (node) => {
        if (node.type !== "element") return;
        if (node.tagName === "pre") node.properties.tabIndex = 0;
        if (runnable && node.tagName === "figure") node.properties.dataRunnable = "true";
        const classes = [node.properties.className ?? []].flat();
        if (runnable && node.tagName === "span" && classes.includes("title")) {
          node.children.push({ type: "text", value: " · runnable walkthrough" });
          return;
        }
        for (const child of node.children ?? []) visit(child);
      };
      visit(renderData.blockAst);
    },
  },
};

/**
 * The server worker opens its storage backend lazily, and its fs backend (engine/storage/node.ts)
 * needs node:fs. A browser never asks a worker for fs storage, but Rollup still bundles the lazy
 * chunk and fails on node:path's missing exports, so the browser's worker build gets a stub that
 * says so instead.
 */
const noFsStorageInBrowsers = {
  name: "rookery-no-fs-storage-in-browsers",
  enforce: "pre",
  resolveId(source, importer) {
    if (importer && /engine[\\/]/.test(importer) && /storage\/node\.ts$/.test(source)) return "\0rookery-no-fs-storage";
    return null;
  },
  load(id) {
    if (id !== "\0rookery-no-fs-storage") return null;
    return 'export async function openFsStorage() { throw new Error("fs storage is not available in a browser; use indexeddb"); }';
  },
};

const chapter = (slug, label) => ({ label, link: `/chapter/${slug}/` });

export default defineConfig({
  devToolbar: { enabled: false },
  base: basePath(),
  ...(process.env.SITE_URL ? { site: process.env.SITE_URL } : {}),
  // `npm run build` writes the static site to the repository's dist/ (any base path works).
  outDir: "../dist",
  trailingSlash: "always",
  // Playground servers run in module workers that import each other's chunks (book-anchors §2:
  // Vite's default iife worker format cannot code-split).
  vite: { worker: { format: "es", plugins: () => [noFsStorageInBrowsers] }, plugins: [noFsStorageInBrowsers] },
  integrations: [
    // Only the playground's islands are Preact; nothing else on a page hydrates.
    preact({ include: ["../playground/**/*.tsx"] }),
    starlight({
      title: "Rookery",
      description:
        "An interactive companion to the chapter “Setting up a RavenDB Cluster”: Rachis (Raft), " +
        "database groups and multi-master replication, explained and run.",
      customCss: ["./src/styles/custom.css"],
      expressiveCode: { plugins: [bookCodeBlocks] },
      pagination: true,
      pagefind: true,
      lastUpdated: false,
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 3 },
      sidebar: [
        { label: "Start here", items: [{ label: "Introduction", link: "/" }] },
        {
          label: "Setting up a cluster",
          items: [
            chapter("two-layers", "The two layers"),
            chapter("first-cluster", "Your first cluster"),
            chapter("kicking-the-tires", "Kicking the tires"),
            chapter("expanding", "Expanding to five nodes"),
            chapter("database-group", "The database group"),
          ],
        },
        {
          label: "Clients and the group",
          items: [
            chapter("client-failover", "Client interaction and failover"),
            chapter("write-assurance", "Write assurance"),
            chapter("load-balancing", "Load balancing"),
          ],
        },
        {
          label: "Replication",
          items: [
            chapter("replication", "Replication in a group"),
            chapter("transaction-atomicity", "Transaction atomicity"),
            chapter("conflicts", "Conflicts"),
            chapter("supervisor", "The supervisor"),
          ],
        },
        { label: "Under the hood", items: [{ label: "Inside the engine", link: "/engine/inside/" }] },
      ],
    }),
  ],
});
