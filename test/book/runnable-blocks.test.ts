/**
 * Tested chapters: every ```ts runnable block in the book runs headless against the engine, and a
 * failure names the MDX file and line. Blocks run one at a time (each is a Node process) so the
 * real-time tests elsewhere in the suite keep their CPU.
 */
import { describe, expect, it } from "vitest";
import { blocksIn, bookBlocks, metaWords, runBlock } from "./blocks.ts";

const blocks = bookBlocks();

describe("the book's runnable blocks", () => {
  it("the chapters have runnable blocks to run", () => {
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks)
      expect(block.code, `${block.file}:${block.line}`).toContain('from "rookery"');
  });

  it.each(blocks.map((block) => [`${block.file}:${block.line} ${block.title}`, block] as const))(
    "%s runs",
    async (_name, block) => {
      const run = await runBlock(block);
      expect(run.ok, run.message).toBe(true);
    },
  );
});

describe("extracting and running blocks", () => {
  const source = [
    "---",
    "title: A page { with braces }",
    "---",
    "import { Aside } from '@astrojs/starlight/components';",
    "",
    '```ts runnable title="first.ts"',
    "console.log(1);",
    "```",
    "",
    '```ts title="not-runnable.ts"',
    "this is not code",
    "```",
    "",
    "<Aside>",
    "",
    "```ts runnable",
    "console.log(2);",
    "```",
    "",
    "</Aside>",
    "",
    "```text runnable",
    "not typescript",
    "```",
  ].join("\n");

  it("finds ts runnable fences (inside JSX too) with their fence lines and titles, and nothing else", () => {
    expect(blocksIn("page.mdx", source)).toEqual([
      { file: "page.mdx", line: 6, title: "first.ts", code: "console.log(1);" },
      { file: "page.mdx", line: 16, title: "", code: "console.log(2);" },
    ]);
    expect(metaWords('runnable title="a b.ts" x=1')).toEqual(["runnable", 'title="a b.ts"', "x=1"]);
  });

  it("a failing block names the MDX file and line, and its stack points into the MDX", async () => {
    const run = await runBlock({
      file: "book/example.mdx",
      line: 40,
      title: "broken.ts",
      code: 'import { Cluster } from "rookery";\nconst cluster = await Cluster.start({ servers: 1 });\nawait cluster.kill("Z");\n',
    });
    expect(run.ok).toBe(false);
    expect(run.message).toMatch(/^book\/example\.mdx:40 \(broken\.ts\) exited with code 1:/);
    expect(run.message).toContain('no server "Z"');
    expect(run.message).toMatch(/book\/example\.mdx:43:\d+/);
  });

  it("a block that never ends is stopped at its time limit", async () => {
    const run = await runBlock(
      {
        file: "book/example.mdx",
        line: 7,
        title: "",
        code: "await new Promise(() => setInterval(() => {}, 1000));\n",
      },
      1_500,
    );
    expect(run.ok).toBe(false);
    expect(run.message).toBe("book/example.mdx:7 (untitled block) did not finish within 1500 ms");
  });
});
