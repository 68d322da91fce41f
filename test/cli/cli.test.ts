/**
 * `rookery <command>` as a user meets it: --help with examples on every command, --version,
 * strict options (unknown flags, stray words, numbers that would wrap), errors as a named error
 * with what to do and no stack trace unless --verbose. In this process through main(), so cheap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { commands } from "../../cli/commands/index.ts";

const repo = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "rookery-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rookery(
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

const names = commands.map((c) => c.name);

describe("rookery <command> --help", () => {
  it("lists the six commands, and `rookery` alone prints the same list as a usage error", async () => {
    expect(names).toEqual(["cluster", "serve", "walkthrough", "exercise", "sim", "bench"]);
    const help = await rookery("--help");
    expect(help.code).toBe(0);
    for (const name of names) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, "m"));
    const bare = await rookery();
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("usage: rookery <command> [options]");
  });

  it.each(names)("%s --help exits 0 with its usage, every option and examples", async (name) => {
    const { code, stdout, stderr } = await rookery(name, "--help");
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain(`usage: rookery ${name}`);
    const command = commands.find((c) => c.name === name)!;
    for (const option of [...Object.keys(command.options), "help", "verbose"])
      expect(stdout).toContain(`--${option}`);
    const examples = stdout.slice(stdout.indexOf("examples:"));
    expect(examples.split("\n").filter((line) => line.startsWith("  ")).length).toBeGreaterThan(1);
    expect((await rookery(name, "-h")).stdout).toBe(stdout);
    expect((await rookery("help", name)).stdout).toBe(stdout);
  });

  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
      version: string;
    };
    expect(await rookery("--version")).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });
});

describe("strict command lines: exit 2 with the usage", () => {
  it.each(names)("%s: an unknown flag", async (name) => {
    const { code, stdout, stderr } = await rookery(name, "--bogus");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(`rookery ${name}: unknown option --bogus`);
    expect(stderr).toContain(`usage: rookery ${name}`);
  });

  it.each(["cluster", "walkthrough", "sim"])("%s: a stray argument", async (name) => {
    const { code, stderr } = await rookery(name, "--json", "extra");
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown option --json|unexpected argument "extra"/);
  });

  it("a stray argument after a flag that exists is refused, not ignored", async () => {
    const { code, stderr } = await rookery("walkthrough", "--json", "extra");
    expect(code).toBe(2);
    expect(stderr).toContain(
      'unexpected argument "extra" (rookery walkthrough takes only options)',
    );
  });

  it("numbers are digits within bounds: no exponents, signs, or seeds that would wrap past 2^32", async () => {
    const refused: [string[], string][] = [
      [["sim", "--seeds", "1e20"], '--seeds needs a whole number from 1 to 1000000, got "1e20"'],
      [["sim", "--seeds", "-1"], "--seeds needs a value"],
      [["sim", "--seed", "4294967296"], "--seed needs a whole number from 0 to 4294967295"],
      [["sim", "--from", "4294967295", "--seeds", "2"], "goes past the last seed, 4294967295"],
      [["sim", "--seeds", "2.5"], "--seeds needs a whole number"],
      [["sim", "--seeds"], "--seeds needs a value"],
      [["sim", "--nodes", "4"], '--nodes takes 3 or 5, got "4"'],
      [["sim", "--seed", "3", "--seeds", "2"], "--seed replays one seed"],
      [["cluster", "--servers", "27"], "--servers needs a whole number from 1 to 26"],
      [["walkthrough", "--seed", "0x10"], "--seed needs a whole number"],
      [
        ["exercise", "check", "1", "--solution", "x.ts", "--wall-limit-ms", "0"],
        "no solution file",
      ],
      [["bench", "nosuch"], 'no bench suite "nosuch"'],
    ];
    for (const [argv, message] of refused) {
      const { code, stderr } = await rookery(...argv);
      expect({ argv, code, stderr }).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(message),
      });
    }
  });

  it("options that do not go together are refused with what to do instead", async () => {
    const refused: [string[], string][] = [
      [["walkthrough", "--data-dir", "x"], "are for --runtime worker"],
      [
        ["walkthrough", "--runtime", "worker", "--fresh"],
        "--fresh wipes the server folders of --data-dir",
      ],
      [
        ["walkthrough", "--runtime", "worker", "--storage", "memory", "--data-dir", "x"],
        "--data-dir goes with --storage fs",
      ],
      [["cluster", "--runtime", "sim", "--fresh"], "are for --runtime worker"],
      [["exercise", "list", "--steps"], "--steps does not go with list"],
      [["exercise", "frobnicate"], 'unknown subcommand "frobnicate"'],
    ];
    for (const [argv, message] of refused) {
      const { code, stderr } = await rookery(...argv);
      expect({ argv, code, stderr }).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(message),
      });
    }
  });

  it("an unknown command suggests the nearest", async () => {
    const { code, stderr } = await rookery("sims");
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "sims"; did you mean sim?');
  });
});

describe("errors: the named error and what to do, the stack only with --verbose", () => {
  it("--data-dir pointing at a file", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a folder");
    const plain = await rookery("walkthrough", "--runtime", "worker", "--data-dir", file);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(
      `rookery walkthrough: StorageNotDirectory: the data folder ${JSON.stringify(file)} is a file (or lies under one), not a folder; point dataDir (--data-dir) at a folder\n`,
    );
    const verbose = await rookery(
      "walkthrough",
      "--runtime",
      "worker",
      "--data-dir",
      file,
      "--verbose",
    );
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/StorageNotDirectory: .*\n.*\n\s+at /);
  });
});

describe("rookery sim", () => {
  it("says how many runs --seeds N means, and reports progress and the result", async () => {
    const both = await rookery("sim", "--seeds", "2");
    expect(both.code).toBe(0);
    expect(both.stderr).toContain(
      "sim raft: seeds 1..2 on 3 and 5 nodes = 4 runs (2 seeds × 2 sizes)",
    );
    expect(both.stderr).toMatch(/sim raft: 4\/4 runs, 0 failed, [\d.]+ runs\/s, done in \d+ s/);
    expect(both.stdout).toMatch(/^4 runs, 0 failed \(0 stalled\), \d+ simulated s in/);
    const one = await rookery("sim", "--seed", "7", "--nodes", "3", "--workload", "db");
    expect(one.stderr).toContain("sim db: seed 7 on 3 nodes = 1 run");
    expect(one.stdout).toMatch(/^1 run, 0 failed \(0 stalled\)/);
  });
});
