import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function walkthrough(...args: string[]): string {
  return execFileSync(process.execPath, ["--import", "tsx", "cli/bin.ts", "walkthrough", ...args], {
    encoding: "utf8",
  });
}

describe("npm run walkthrough", () => {
  it("prints the chapter's story as one JSON object per step, the same on every run", () => {
    const first = walkthrough("--json");
    expect(walkthrough("--json")).toBe(first);
    const steps = first
      .trim()
      .split("\n")
      .map(
        (line) =>
          JSON.parse(line) as {
            step: number;
            title: string;
            detail?: string;
            cluster: { tag: string; role: string }[];
            databases: { name: string; members: string[] }[];
            documents: Record<string, Record<string, string[]>>;
          },
      );
    expect(steps.map((s) => s.step)).toEqual(steps.map((_, k) => k + 1));
    expect(steps[0]!.cluster.map((s) => s.tag)).toEqual(["?", "?"]);
    expect(steps[1]!.cluster.map((s) => s.tag)).toEqual(["A", "?"]);
    const killed = steps.find((s) => s.title.startsWith("Kill A"))!;
    expect(killed.cluster.some((s) => s.role === "leader")).toBe(false);
    const noLeader = steps.find((s) => s.title.startsWith("Without a leader"))!;
    expect(noLeader.detail).toContain("NoLeader");
    expect(noLeader.documents["B"]!["Spade"]).toEqual(["users/1", "users/2", "users/3"]);
    const last = steps[steps.length - 1]!;
    expect(last.cluster.map((s) => s.tag)).toEqual(["A", "B", "C", "D", "E"]);
    expect(last.databases.find((d) => d.name === "Pitchfork")!.members).toHaveLength(3);
  });

  it("prints the Studio screens as tables, and refuses an unknown option clearly", () => {
    const text = walkthrough();
    expect(text).toContain("url                    tag  role");
    expect(text).toContain("Spade on D: Offline");
    expect(() => walkthrough("--bogus")).toThrow(/unknown option --bogus/);
  });
});
