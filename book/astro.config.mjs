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

const chapter = (slug, label) => ({ label, link: `/chapter/${slug}/` });
// Exercise pages are generated from exercises/ (npm run exercise-pages); the browser tests check this list against them.
const exercise = (id, label) => ({ label, link: `/exercises/${id}/` });

export default defineConfig({
  devToolbar: { enabled: false },
  base: basePath(),
  ...(process.env.SITE_URL ? { site: process.env.SITE_URL } : {}),
  // `npm run build` writes the static site to the repository's site/ (any base path works);
  // dist/ is the npm package's build.
  outDir: "../site",
  trailingSlash: "always",
  // Playground servers run in module workers that import each other's chunks (book-anchors §2:
  // Vite's default iife worker format cannot code-split).
  vite: { worker: { format: "es" } },
  integrations: [
    // Only the playground's islands are Preact; nothing else on a page hydrates.
    preact({ include: ["../playground/**/*.tsx"] }),
    starlight({
      title: "Rookery",
      description:
        "An interactive companion to the chapter “Setting up a RavenDB Cluster”: Rachis (Raft), " +
        "database groups and multi-master replication, explained and run.",
      customCss: ["./src/styles/custom.css"],
      // Expressive Code's options (the book's code-block plugin) live in ec.config.mjs, so the
      // <Code> component (the teacher's page shows files of the repository with it) can load them.
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
        {
          label: "Under the hood",
          items: [
            { label: "Inside the engine", link: "/engine/inside/" },
            { label: "Run it for real", link: "/run-for-real/" },
          ],
        },
        {
          label: "Exercises",
          items: [
            { label: "All exercises", link: "/exercises/" },
            { label: "For teachers", link: "/teaching/" },
            exercise("bootstrap", "1. Bootstrap a cluster"),
            exercise("grow-group", "2. Grow a database group"),
            exercise("leaderless-writes", "3. Writes without a leader"),
            exercise("failover", "4. Client failover"),
            exercise("write-assurance", "5. Write assurance fails"),
            exercise("partial-transaction", "6. A partial transaction"),
            exercise("conflicts", "7. Conflicts, both ways"),
            exercise("pitchfork", "8. Survive any two failures"),
            exercise("supervisor", "9. The supervisor at work"),
            exercise("majority", "10. Without a majority"),
            exercise("partition", "11. Each side of a partition"),
          ],
        },
      ],
    }),
  ],
});
