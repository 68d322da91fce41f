/**
 * Predict, then see: every chapter page's playground asks the reader to predict at least one
 * outcome before the step that shows it, and each question is well formed (two to five choices,
 * the answer one of them, an explanation of what the screen shows). That the answers are what
 * happens is shown by the session tests, which run every step and check its outcome.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { scenarios } from "../../playground/scenarios.ts";

const chapter = resolve(import.meta.dirname, "../../book/src/content/docs/chapter");

/** The scenarios the chapter pages embed, by page. */
function embedded(): Record<string, string[]> {
  const pages: Record<string, string[]> = {};
  for (const file of readdirSync(chapter).filter((name) => name.endsWith(".mdx"))) {
    const source = readFileSync(join(chapter, file), "utf8");
    const ids = [...source.matchAll(/<Playground scenario="([^"]+)"/g)].map((m) => m[1]!);
    if (ids.length > 0) pages[file] = ids;
  }
  return pages;
}

describe("predict, then see, on the chapter pages", () => {
  it("every chapter page with a playground asks for at least one prediction", () => {
    const pages = embedded();
    expect(Object.keys(pages).length).toBeGreaterThanOrEqual(10);
    const without = Object.entries(pages)
      .filter(([, ids]) => !ids.some((id) => scenarios[id]?.steps.some((step) => step.predict)))
      .map(([page]) => page);
    expect(without).toEqual([]);
  });

  it("each question has two to five choices, an answer among them and an explanation", () => {
    for (const scenario of Object.values(scenarios)) {
      for (const step of scenario.steps) {
        const predict = step.predict;
        if (!predict) continue;
        const where = `${scenario.id}: ${step.title}`;
        expect(predict.choices.length, where).toBeGreaterThanOrEqual(2);
        expect(predict.choices.length, where).toBeLessThanOrEqual(5);
        expect(new Set(predict.choices).size, where).toBe(predict.choices.length);
        expect(predict.answer, where).toBeGreaterThanOrEqual(0);
        expect(predict.answer, where).toBeLessThan(predict.choices.length);
        expect(predict.question.endsWith("?"), where).toBe(true);
        expect(predict.explain.length, where).toBeGreaterThan(60);
      }
    }
  });
});
