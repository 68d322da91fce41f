/**
 * npm run exercise-pages [-- --check]
 *
 * Writes one book page per exercise, book/src/content/docs/exercises/<id>.mdx, from the exercise
 * modules (title, section, goal), each rendering <Exercise id="…" /> (the checklist, Hint, Show
 * solution and the live playground). `--check` writes nothing and fails when a page is missing or
 * stale; `npm test` runs the same comparison.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exercises } from "../exercises/index.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const pagesDir = join(repo, "book", "src", "content", "docs", "exercises");

/** yamlString quotes a frontmatter value (JSON strings are valid YAML). */
const yamlString = (text: string): string => JSON.stringify(text);

/** firstSentence is a page's description: the goal's first sentence. */
function firstSentence(text: string): string {
  const match = /^(.+?[.!?])(\s|$)/.exec(text);
  return (match?.[1] ?? text).trim();
}

/** exercisePages maps each page's file name to its contents. */
export function exercisePages(): Map<string, string> {
  const pages = new Map<string, string>();
  exercises.forEach((exercise, i) => {
    pages.set(
      `${exercise.id}.mdx`,
      [
        "---",
        `title: ${yamlString(exercise.title)}`,
        `description: ${yamlString(`Exercise ${i + 1} (${exercise.section}): ${firstSentence(exercise.goal)} The goal, a checklist that ticks as you work, hints, the solution's steps and a live playground.`)}`,
        "# The playground takes the whole main column, so the outline is folded away.",
        "tableOfContents: false",
        "---",
        "",
        "{/* Generated from exercises/ by scripts/exercise-pages.ts: edit the exercise module, then run `npm run exercise-pages`. */}",
        "",
        'import Exercise from "../../../components/Exercise.astro";',
        "",
        `<Exercise id=${yamlString(exercise.id)} />`,
        "",
      ].join("\n"),
    );
  });
  return pages;
}

/** stalePages lists what differs between the pages on disk and the generated ones. */
export function stalePages(): string[] {
  const wanted = exercisePages();
  const problems: string[] = [];
  for (const [name, text] of wanted) {
    const path = join(pagesDir, name);
    if (!existsSync(path)) problems.push(`missing: ${name}`);
    else if (readFileSync(path, "utf8") !== text) problems.push(`stale: ${name}`);
  }
  if (existsSync(pagesDir))
    for (const name of readdirSync(pagesDir))
      if (name.endsWith(".mdx") && !wanted.has(name)) problems.push(`no such exercise: ${name}`);
  return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    const problems = stalePages();
    for (const problem of problems) console.log(problem);
    console.log(
      problems.length === 0
        ? "exercise pages are up to date"
        : "run `npm run exercise-pages` to regenerate them",
    );
    process.exitCode = problems.length === 0 ? 0 : 1;
  } else {
    mkdirSync(pagesDir, { recursive: true });
    const pages = exercisePages();
    for (const name of readdirSync(pagesDir))
      if (name.endsWith(".mdx") && !pages.has(name)) rmSync(join(pagesDir, name));
    for (const [name, text] of pages) writeFileSync(join(pagesDir, name), text);
    console.log(`wrote ${pages.size} pages to ${pagesDir}`);
  }
}
