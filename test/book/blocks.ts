/**
 * The book's runnable walkthroughs: fenced ```ts runnable blocks in the MDX chapters, extracted
 * with the parser the site itself uses (@mdx-js/mdx's processor: remark-parse + remark-mdx; the
 * MDX is parsed, never compiled or evaluated), and run one by one as modules against the engine.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createProcessor } from "@mdx-js/mdx";

/** The repository root (blocks import "rookery", which resolves to this package from inside it). */
export const repo = resolve(import.meta.dirname, "../..");

/** RunnableBlock is one walkthrough: where it is in the book and its source. */
export interface RunnableBlock {
  /** The MDX file, relative to the repository root. */
  readonly file: string;
  /** The line of the opening fence (1-based); the code starts on the next line. */
  readonly line: number;
  readonly title: string;
  readonly code: string;
}

/** The few mdast fields the walk reads (the processor's tree is mdast with MDX nodes). */
interface MdNode {
  readonly type: string;
  readonly lang?: string | null;
  readonly meta?: string | null;
  readonly value?: string;
  readonly position?: { readonly start: { readonly line: number } };
  readonly children?: readonly MdNode[];
}

/** metaWords splits a fence's meta string into words, keeping quoted values whole (title="a b.ts"). */
export function metaWords(meta: string): string[] {
  return meta.match(/[^\s"']+(?:"[^"]*"|'[^']*')?|"[^"]*"|'[^']*'/g) ?? [];
}

/**
 * blocksIn extracts the runnable blocks of one MDX source. YAML frontmatter is blanked (not
 * removed, so line numbers stay true) because MDX would read braces in it as expressions.
 */
export function blocksIn(file: string, source: string): RunnableBlock[] {
  const frontmatter = /^---\r?\n[\s\S]*?\r?\n---(?=\r?\n|$)/.exec(source);
  const text = frontmatter
    ? frontmatter[0].replace(/[^\n]/g, " ") + source.slice(frontmatter[0].length)
    : source;
  const tree = createProcessor({ format: "mdx" }).parse({
    path: file,
    value: text,
  }) as unknown as MdNode;
  const blocks: RunnableBlock[] = [];
  const walk = (node: MdNode): void => {
    if (node.type === "code" && (node.lang === "ts" || node.lang === "typescript")) {
      const words = metaWords(node.meta ?? "");
      if (words.includes("runnable")) {
        const title =
          words
            .find((w) => w.startsWith("title="))
            ?.slice("title=".length)
            .replace(/^["']|["']$/g, "") ?? "";
        blocks.push({ file, line: node.position?.start.line ?? 0, title, code: node.value ?? "" });
      }
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(tree);
  return blocks;
}

function mdxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return mdxFiles(path);
      return entry.name.endsWith(".mdx") ? [path] : [];
    })
    .sort();
}

/** bookBlocks extracts every runnable block of book/src/content/docs/**\/*.mdx. */
export function bookBlocks(): RunnableBlock[] {
  return mdxFiles(join(repo, "book", "src", "content", "docs")).flatMap((path) =>
    blocksIn(relative(repo, path), readFileSync(path, "utf8")),
  );
}

/** BlockRun is how a block ended: ok, or why not, with its output. */
export interface BlockRun {
  readonly ok: boolean;
  /** `file:line` of the fence, then what went wrong, with stack lines mapped back into the MDX file. */
  readonly message: string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * runBlock writes the block to tmp/rookery-blocks/ (inside the package, so `import … from
 * "rookery"` resolves as it would for a reader) and runs it as an ES module under tsx in its own
 * process, with a wall-time limit: a block that throws, exits non-zero or hangs fails.
 */
export function runBlock(block: RunnableBlock, timeoutMs = 60_000): Promise<BlockRun> {
  const dir = join(repo, "tmp", "rookery-blocks");
  mkdirSync(dir, { recursive: true });
  const name = `${block.file.replace(/[^A-Za-z0-9]+/g, "-")}-L${block.line}.ts`;
  const path = join(dir, name);
  writeFileSync(path, block.code);
  const where = `${block.file}:${block.line}`;
  // Stack frames point into the temporary file; line L of the block is line fence + L of the MDX.
  const mapped = (text: string): string => {
    const url = pathToFileURL(path).href;
    return text
      .split(url)
      .join(path)
      .replace(
        new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+)(:\\d+)?`, "g"),
        (_all, line: string, column: string | undefined) =>
          `${block.file}:${block.line + Number(line)}${column ?? ""}`,
      );
  };
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path],
      { cwd: repo, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return done({ ok: true, message: `${where}: ok`, stdout, stderr });
        const how = error.killed
          ? `did not finish within ${timeoutMs} ms`
          : `exited with code ${String(error.code ?? "?")}`;
        const detail = mapped(stderr).trim().split("\n").slice(0, 30).join("\n");
        done({
          ok: false,
          message: `${where} (${block.title || "untitled block"}) ${how}${detail ? `:\n${detail}` : ""}`,
          stdout,
          stderr: mapped(stderr),
        });
      },
    );
  });
}
