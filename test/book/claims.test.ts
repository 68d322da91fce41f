/**
 * The teacher's page's table of the chapter's 24 claims (book/src/claims.ts, rendered by
 * ClaimsTable.astro): every link resolves. Each book section is a heading of its page (the anchor
 * Starlight gives it), each playground step is a step of a scenario that its page embeds, and each
 * scenario test exists under its name, which the table's command selects alone.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import GithubSlugger from "github-slugger";
import { describe, expect, it } from "vitest";
import { claims, scenarioPages, testCommand } from "../../book/src/claims.ts";
import { scenarios } from "../../playground/scenarios.ts";

const repo = resolve(import.meta.dirname, "../..");
const docs = join(repo, "book/src/content/docs");

/** anchors lists the ids Starlight gives a page's headings (github-slugger, in order). */
function anchors(page: string): string[] {
  const source = readFileSync(join(docs, `${page}.mdx`), "utf8");
  const slugger = new GithubSlugger();
  return [...source.matchAll(/^#{2,6} (.+)$/gm)].map((match) =>
    slugger.slug(match[1]!.replace(/`/g, "").trim()),
  );
}

/** scenarioTestNames lists every test name in test/scenarios/*.test.ts. */
function scenarioTestNames(): string[] {
  const dir = join(repo, "test/scenarios");
  return readdirSync(dir)
    .filter((file) => file.endsWith(".test.ts"))
    .flatMap((file) =>
      [...readFileSync(join(dir, file), "utf8").matchAll(/\bit\(\s*"((?:[^"\\]|\\.)*)"/g)].map(
        (match) => JSON.parse(`"${match[1]!}"`) as string,
      ),
    );
}

/** Claims whose playground step waits for the playground work of issue 14 (see `pending`). */
const awaitingThePlayground = [13, 15, 18];

describe("the chapter's claims on the teacher's page", () => {
  it("are numbered 1 to 24, in the chapter's order, each with all three links (or a reason for the missing step)", () => {
    expect(claims.map((claim) => claim.n)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(claims.filter((claim) => claim.playground === null).map((claim) => claim.n)).toEqual(
      awaitingThePlayground,
    );
    for (const claim of claims.filter((c) => c.playground === null))
      expect(claim.pending, `claim ${claim.n}`).toBeTruthy();
  });

  it("every book section is a heading of its page", () => {
    const missing = claims.filter((claim) => !anchors(claim.book.page).includes(claim.book.anchor));
    expect(missing.map((claim) => `${claim.n}: ${claim.book.page}#${claim.book.anchor}`)).toEqual(
      [],
    );
  });

  it("every playground step is a step of a scenario embedded in the page the table links to", () => {
    for (const claim of claims) {
      if (!claim.playground) continue;
      const { scenario, step } = claim.playground;
      const page = scenarioPages[scenario];
      expect(page, `claim ${claim.n}: no page for scenario ${scenario}`).toBeDefined();
      expect(readFileSync(join(docs, `${page}.mdx`), "utf8")).toContain(
        `<Playground scenario="${scenario}"`,
      );
      expect(
        scenarios[scenario]?.steps.map((s) => s.title),
        `claim ${claim.n}: scenario ${scenario}`,
      ).toContain(step);
    }
  });

  it("every scenario test exists under its name, and the table's command selects it alone", () => {
    const names = scenarioTestNames();
    for (const claim of claims) {
      expect(claim.test.startsWith(`claim ${claim.n}: `), claim.test).toBe(true);
      expect(names, `claim ${claim.n}`).toContain(claim.test);
      const filter = /-t "(.+)"$/.exec(testCommand(claim.n))![1]!;
      expect(
        names.filter((name) => name.includes(filter)),
        filter,
      ).toEqual([claim.test]);
    }
  });

  it("the teacher's page shows the table", () => {
    const page = readFileSync(join(docs, "teaching.mdx"), "utf8");
    expect(page).toContain('import ClaimsTable from "../../components/ClaimsTable.astro";');
    expect(page).toContain("<ClaimsTable />");
  });
});
