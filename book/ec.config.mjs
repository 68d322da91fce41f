// Expressive Code's options for the book, in their own file so that Starlight's <Code> component
// can load them too (astro.config.mjs may hold only JSON-serializable Expressive Code options).
import { defineEcConfig } from "@astrojs/starlight/expressive-code";

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

export default defineEcConfig({ plugins: [bookCodeBlocks] });
