/**
 * A seeded, model-based test of the fs backend: random batches (overwrites of a few keys, unicode
 * and line-break keys, values larger than compaction's read step and now and then larger than a
 * synchronous group), deletes, empty batches, explicit and automatic compactions, and lives that
 * end in a clean close, a crash (with writes queued, on the thread pool or mid-compaction) or a
 * crash whose unacknowledged tail is then cut short, as a power cut may leave it.
 *
 * The model holds every batch in call order. After each reopen, and at loads along the way,
 * the storage must hold exactly the acknowledged batches plus a prefix of the unacknowledged ones,
 * each whole (batches apply in call order, so nothing else is a legal outcome).
 *
 * The seed fixes every choice the test makes; when the thread pool's timing matters (what is in
 * flight at a crash), a replay takes the same steps but may see other outcomes. To replay one seed:
 *   ROOKERY_STORAGE_SEED=<seed> npx vitest run test/storage/fs-model.test.ts
 * ROOKERY_STORAGE_LIVES=<n> runs more lives per seed, for a longer soak.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SeededRandom, isRookeryError } from "../../engine/core/index.ts";
import { logFileName, openFsStorage } from "../../engine/storage/node.ts";
import type {
  FsStorage,
  FsStorageOptions,
  StorageOperation,
  StorageValue,
  StorageWarning,
} from "../../engine/storage/node.ts";

type State = Map<string, Map<string, unknown>>;

/** Batch is one write as issued, with what became of it. */
interface Batch {
  readonly operations: readonly StorageOperation[];
  /** "ok" once its promise resolved, "rejected" once it rejected; null while unsettled. */
  outcome: "ok" | "rejected" | null;
  error: unknown;
  readonly settled: Promise<void>;
}

const stores = ["documents", "revisions", "raft-log"] as const;
// Keys that stress the log's line layout: escapes, line and paragraph separators, a leading byte
// order mark (and the same key without it), a lone surrogate, astral characters, the empty key.
const keys = [
  "users/1",
  "users/2",
  "users/3",
  "ключ/1",
  "𝄞",
  "\ufeffbom",
  "bom",
  "line\nbreak",
  "\u2028sep\u2029",
  'quote"d',
  "back\\slash\\",
  "",
  "tab\t",
  "\ud800lone",
  "é".repeat(40),
];
const texts = [
  "plain",
  "é☃𝄞",
  "line\nbreak",
  "\u2028\u2029",
  'q"uote',
  "back\\",
  "\ufeffbom",
  "\u0000nul",
];

const envSeed = process.env["ROOKERY_STORAGE_SEED"];
const seeds = envSeed === undefined ? [1, 2, 3] : [Number(envSeed)];
const lives = Number(process.env["ROOKERY_STORAGE_LIVES"] ?? 30);

/** canonical prints a state with sorted stores and keys, bytes spelled out, empty stores left out. */
function canonical(state: State): string {
  const stores = [...state.entries()]
    .filter(([, keys]) => keys.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(
    stores.map(([store, keys]) => [
      store,
      [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ]),
    (_field, value: unknown) => (value instanceof Uint8Array ? { bytes: [...value] } : value),
  );
}

function apply(state: State, operations: readonly StorageOperation[]): State {
  const next: State = new Map([...state].map(([store, keys]) => [store, new Map(keys)]));
  for (const operation of operations) {
    let keys = next.get(operation.store);
    if (!keys) next.set(operation.store, (keys = new Map()));
    if (operation.op === "put") keys.set(operation.key, operation.value);
    else keys.delete(operation.key);
  }
  return next;
}

/** Run is one seed's whole history: the model, the storage of the current life, and a trace. */
class Run {
  private readonly random: SeededRandom;
  private readonly root = mkdtempSync(join(tmpdir(), "rookery-model-"));
  private readonly dir = join(this.root, "Data", "1");
  private readonly file = join(this.dir, logFileName);
  /** What the storage held when the current life began (every earlier batch settled into it). */
  private base: State = new Map();
  /** Batches issued in this life, in call order. */
  private batches: Batch[] = [];
  /** Each compaction's outcome: null when it succeeded, else its error. */
  private compactions: Promise<unknown>[] = [];
  private storage: FsStorage | null = null;
  private readonly trace: string[] = [];
  private readonly warnings: StorageWarning[] = [];
  private hugeValues = 0;
  private sequence = 0;

  constructor(readonly seed: number) {
    this.random = new SeededRandom(seed);
  }

  async play(): Promise<void> {
    const fdsBefore = openFds();
    try {
      for (let life = 0; life < lives; life++) await this.live(life);
      if (!this.storage) await this.open();
      this.expectState(await this.storage!.load(), [this.base], "the last open");
      await this.storage!.close();
      this.storage = null;
      expect(existsSync(`${this.file}.compacting`), "a compaction's file left behind").toBe(false);
      // Crashed instances release their files once their thread-pool I/O lands; give it time.
      for (let trip = 0; trip < 200 && openFds() > fdsBefore; trip++) await stat(this.root);
      expect(openFds(), "file handles left open").toBe(fdsBefore);
    } catch (error) {
      const replay = `ROOKERY_STORAGE_SEED=${this.seed} npx vitest run test/storage/fs-model.test.ts`;
      const message = error instanceof Error ? error.message : String(error);
      console.error(`fs model test failed, seed ${this.seed}; replay: ${replay}`);
      throw new Error(
        `seed ${this.seed}: ${message}\nlast steps:\n  ${this.trace.slice(-25).join("\n  ")}\nreplay: ${replay}`,
        { cause: error },
      );
    } finally {
      this.storage?.crash();
      rmSync(this.root, { recursive: true, force: true });
    }
  }

  private note(step: string): void {
    this.trace.push(step);
  }

  private async open(): Promise<void> {
    const options: FsStorageOptions = {
      dir: this.dir,
      onWarning: (warning) => this.warnings.push(warning),
      syncGroupBytesMax: this.random.pick([0, 300, 5000, 1024 * 1024]),
      compactReadBytes: this.random.pick([64, 700, 4096]),
      autoCompact: this.random.pick([
        false,
        { logBytesMin: 3000, growthRatio: 1.5 },
        { logBytesMin: 20_000, growthRatio: 2 },
      ] as const),
    };
    this.note(`open ${JSON.stringify({ ...options, dir: undefined, onWarning: undefined })}`);
    this.storage = await openFsStorage(options);
  }

  /** live is one life: open, check what survived, work, and end in a close or a crash. */
  private async live(life: number): Promise<void> {
    // After a crash the storage was reopened and checked already; it goes on from there.
    if (!this.storage) {
      await this.open();
      this.expectState(await this.storage!.load(), [this.base], `reopen ${life}`);
    }
    const storage = this.storage!;
    expect(existsSync(`${this.file}.compacting`), "a compaction's file survived recovery").toBe(
      false,
    );
    const steps = this.random.between(4, 30);
    for (let step = 0; step < steps; step++) {
      const roll = this.random.next();
      if (roll < 0.5) {
        const writes = this.random.between(1, 4);
        for (let w = 0; w < writes; w++) this.issue(storage);
      } else if (roll < 0.62) {
        this.note("compact");
        // Handled at once, since a crash may reject it long before the test looks.
        this.compactions.push(
          storage.compact().then(
            () => null,
            (error: unknown) => error,
          ),
        );
      } else if (roll < 0.8) {
        const trips = this.random.between(0, 6);
        this.note(`yield ${trips} pool trips`);
        await new Promise((resolve) => setImmediate(resolve));
        for (let trip = 0; trip < trips; trip++) await stat(this.dir);
      } else if (roll < 0.9) {
        // A load while writes and compactions run: acknowledged batches and maybe later whole ones.
        this.note("load while busy");
        this.expectState(await storage.load(), this.candidates(), `load in life ${life}`);
      } else {
        this.note("wait for everything, then load");
        await Promise.all(this.batches.map((batch) => batch.settled));
        await this.settleCompactions(false);
        this.expectAllAcknowledged();
        this.expectState(await storage.load(), [this.settledState()], `quiet load in life ${life}`);
      }
    }
    const end = this.random.next();
    const tear = this.random.next();
    // Before a crash, let the queue reach the thread pool (a setImmediate starts the next group)
    // and maybe let it get some way there, so the crash finds a group or a compaction step on it.
    const before = this.random.between(-1, 3);
    if (end >= 0.3) {
      if (this.random.chance(0.7)) {
        const writes = this.random.between(1, 3);
        for (let w = 0; w < writes; w++) this.issue(storage);
      }
      if (before >= 0) await new Promise((resolve) => setImmediate(resolve));
      for (let trip = 0; trip < before; trip++) await stat(this.dir);
    }
    if (end < 0.3) {
      this.note("close");
      await storage.close();
      await Promise.all(this.batches.map((batch) => batch.settled));
      await this.settleCompactions(false);
      this.expectAllAcknowledged();
      this.base = this.settledState();
      this.batches = [];
      this.storage = null;
    } else {
      this.note(
        end < 0.75 ? "crash" : `crash, then tear the unacknowledged tail at ${tear.toFixed(3)}`,
      );
      const acknowledgedBytes = storage.logBytes;
      storage.crash();
      await this.expectRefusals(storage);
      if (end >= 0.75) await this.tearTail(acknowledgedBytes, tear);
      await this.settleAfterCrash(life);
    }
  }

  private issue(storage: FsStorage): void {
    const count = this.random.chance(0.06) ? 0 : this.random.between(1, 5);
    const operations: StorageOperation[] = [];
    for (let o = 0; o < count; o++) {
      const store = this.random.pick(stores);
      const key = this.random.pick(keys);
      if (this.random.chance(0.25)) {
        operations.push({ store, op: "delete", key });
        continue;
      }
      const value = this.value();
      const jsonRoll = this.random.next();
      if (!(value instanceof Uint8Array) && jsonRoll < 0.3) {
        // The caller's own JSON text, as the database layer passes it; now and then indented.
        const json = jsonRoll < 0.05 ? JSON.stringify(value, null, 1) : JSON.stringify(value);
        operations.push({ store, op: "put", key, value, json });
      } else operations.push({ store, op: "put", key, value });
    }
    const id = this.sequence++;
    this.note(
      `write #${id}: ${operations.map((op) => `${op.op} ${op.store}/${printable(op.key)}`).join(", ") || "(empty)"}`,
    );
    const batch: Batch = {
      operations,
      outcome: null,
      error: null,
      settled: storage.write(operations).then(
        () => {
          batch.outcome = "ok";
        },
        (error: unknown) => {
          batch.outcome = "rejected";
          batch.error = error;
        },
      ),
    };
    this.batches.push(batch);
  }

  private value(): StorageValue {
    const roll = this.random.next();
    const n = this.sequence;
    if (roll < 0.35) return { n, text: this.random.pick(texts), list: [n, null, true] };
    if (roll < 0.5) return this.random.pick(texts).repeat(this.random.between(1, 30));
    if (roll < 0.6) return this.random.pick([n, -n / 3, null, false, 1e21]);
    if (roll < 0.7)
      return new Uint8Array(this.random.between(0, 40)).map((_, i) => (i * 37 + n) & 0xff);
    if (roll < 0.98) return { n, pad: "é".repeat(this.random.between(100, 3000)) };
    // Larger than a synchronous group, so it goes through the thread pool; kept rare, it is slow.
    if (this.hugeValues++ < 2) return { n, huge: "h".repeat(1024 * 1024 + 100) };
    return { n };
  }

  /**
   * candidates are the legal states: the base, the acknowledged batches, and then any prefix of
   * the batches not (yet) known to be acknowledged.
   */
  private candidates(): State[] {
    let state = this.base;
    const out: State[] = [];
    let known = true;
    for (const batch of this.batches) {
      if (batch.outcome !== "ok") known = false;
      if (!known) out.push(state);
      state = apply(state, batch.operations);
    }
    out.push(state);
    return out;
  }

  private settledState(): State {
    return this.batches.reduce((state, batch) => apply(state, batch.operations), this.base);
  }

  private expectState(actual: State, candidates: readonly State[], where: string): void {
    const printed = canonical(actual);
    if (candidates.some((candidate) => canonical(candidate) === printed)) return;
    // None matched: show the difference from the nearest legal state, all acknowledged batches.
    const plain = (state: State) =>
      Object.fromEntries(
        [...state]
          .filter(([, k]) => k.size > 0)
          .map(([store, k]) => [store, Object.fromEntries(k)]),
      );
    expect(
      plain(actual),
      `${where}: not the acknowledged batches plus a prefix of whole later ones`,
    ).toEqual(plain(candidates[0]!));
    throw new Error(
      `${where}: the state differs from every legal one (${candidates.length} candidates)`,
    );
  }

  private expectAllAcknowledged(): void {
    const failed = this.batches.find((batch) => batch.outcome !== "ok");
    if (failed)
      throw new Error(`a write was not acknowledged without a crash: ${String(failed.error)}`);
  }

  /** After a close or a quiet point every compaction succeeded; after a crash it may say closed. */
  private async settleCompactions(crashed: boolean): Promise<void> {
    for (const compaction of this.compactions.splice(0)) {
      const error = await compaction;
      if (error !== null && !(crashed && isRookeryError(error, "StorageClosed"))) throw error;
    }
  }

  private async expectRefusals(storage: FsStorage): Promise<void> {
    const calls: [string, () => Promise<unknown>][] = [
      ["write", () => storage.write([])],
      ["load", () => storage.load()],
      ["loadStore", () => storage.loadStore("documents")],
      ["compact", () => storage.compact()],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(
        () => null,
        (caught: unknown) => caught,
      );
      if (!isRookeryError(error, "StorageClosed"))
        throw new Error(
          `${name} after a crash did not reject with StorageClosed: ${String(error)}`,
        );
    }
  }

  /**
   * tearTail cuts the log somewhere in what the crashed storage had not acknowledged, as a power
   * cut may leave an unsynced group. It first lets the dead storage's I/O land (an open waits for
   * it), and leaves the log alone if a compaction had renamed a smaller one in.
   */
  private async tearTail(acknowledgedBytes: number, at: number): Promise<void> {
    (
      await openFsStorage({ dir: this.dir, onWarning: (warning) => this.warnings.push(warning) })
    ).crash();
    const size = statSync(this.file).size;
    if (size <= acknowledgedBytes) return;
    truncateSync(this.file, acknowledgedBytes + Math.floor(at * (size - acknowledgedBytes)));
  }

  /** settleAfterCrash reopens at once (while the dead storage's I/O may still run) and checks. */
  private async settleAfterCrash(life: number): Promise<void> {
    const warningsBefore = this.warnings.length;
    await this.open();
    await Promise.all(this.batches.map((batch) => batch.settled));
    await this.settleCompactions(true);
    // Acknowledgements come in call order: none after the first batch a crash rejected.
    const firstLost = this.batches.findIndex((batch) => batch.outcome !== "ok");
    if (firstLost >= 0 && this.batches.slice(firstLost).some((batch) => batch.outcome === "ok")) {
      throw new Error("a batch was acknowledged after an earlier one was rejected");
    }
    for (const batch of this.batches) {
      if (batch.outcome === "rejected" && !isRookeryError(batch.error, "StorageClosed"))
        throw batch.error;
    }
    const loaded = await this.storage!.load();
    this.expectState(loaded, this.candidates(), `reopen after crash ${life}`);
    for (const warning of this.warnings.slice(warningsBefore))
      expect(warning.code).toBe("torn-tail-cut");
    // The next life starts from whatever legal state survived, in the storage that recovered it.
    this.base = loaded;
    this.batches = [];
  }
}

/** printable quotes a key with everything outside printable ASCII escaped, for the trace. */
function printable(key: string): string {
  return JSON.stringify(key).replace(
    /[^\x20-\x7e]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function openFds(): number {
  return existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : 0;
}

describe("fs storage against a model, seeded", () => {
  for (const seed of seeds) {
    it(`random writes, deletes, compactions and crashes keep every acknowledged batch and never part of one (seed ${seed})`, async () => {
      await new Run(seed).play();
    });
  }
});
