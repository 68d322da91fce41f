/**
 * Golden transcripts for Rachis: each file in test/raft/testdata is a script of commands with the
 * output they must print (see testdata/README.md). A change in behaviour shows as a diff of that
 * output. After a deliberate change, rewrite the expected output and read the diff:
 *
 *   REWRITE=1 npx vitest run test/raft/transcripts.test.ts
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseScript, renderScript } from "./datadriven.ts";
import { TranscriptEnv } from "./transcript-env.ts";

const folder = join(import.meta.dirname, "testdata");
const rewrite = process.env.REWRITE === "1";
const files = readdirSync(folder).filter((name) => name.endsWith(".txt"));

describe("Rachis transcripts (test/raft/testdata)", () => {
  it("has transcripts to run", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const name of files) {
    it(name, () => {
      const path = join(folder, name);
      const text = readFileSync(path, "utf8");
      const script = parseScript(name, text);
      const env = new TranscriptEnv();
      const outputs = script.directives.map((directive) => {
        try {
          return env.run(directive);
        } catch (error) {
          throw new Error(
            `${name}:${directive.line} "${directive.text}": ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      });
      const actual = renderScript(script, outputs);
      if (rewrite) {
        if (actual !== text) writeFileSync(path, actual);
        return;
      }
      const first = script.directives.findIndex((d, k) => d.expected !== outputs[k]);
      const where =
        first === -1
          ? `${name}: the file's layout differs from its rewrite`
          : `${name}:${script.directives[first]!.line} "${script.directives[first]!.text}" printed something else first`;
      expect(
        actual,
        `${where}; after a deliberate change run REWRITE=1 npx vitest run test/raft/transcripts.test.ts`,
      ).toBe(text);
    });
  }
});
