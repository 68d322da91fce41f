import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repo, runBlock } from "./blocks.ts";

describe("README", () => {
  it("starts with the two commands: open the book, run the tests", () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const commands = readme
      .split("```sh\n")[1]!
      .split("\n")
      .slice(0, 2)
      .map((line) => line.split("#")[0]!.trim());
    expect(commands).toEqual(["npm ci && npm start", "npm ci && npm test"]);
  });

  it("its library example runs as written and prints users/1 on all three servers", async () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const fence = readme.indexOf("```ts\n");
    const code = readme.slice(fence + 6, readme.indexOf("```", fence + 6));
    const line = readme.slice(0, fence).split("\n").length;
    const run = await runBlock({ file: "README.md", line, title: "library example", code });
    expect(run.ok, run.message).toBe(true);
    expect(run.stdout).toMatch(/A: \{ Spade: \[ 'users\/1' \] \}/);
    expect(run.stdout).toMatch(/C: \{ Spade: \[ 'users\/1' \] \}/);
  });
});
