/**
 * Just enough of vitest's API (describe, it, beforeEach, afterEach, expect) to run a shared suite
 * such as test/storage/conformance.ts inside a browser page, where vitest itself does not run.
 * esbuild aliases "vitest" to this file when it bundles the suite for Chromium.
 */
type Hook = () => unknown | Promise<unknown>;
interface Case {
  readonly name: string;
  readonly run: Hook;
  readonly before: Hook[];
  readonly after: Hook[];
}

const cases: Case[] = [];
const scopes: { name: string; before: Hook[]; after: Hook[] }[] = [];

export function describe(name: string, body: () => void): void {
  scopes.push({ name, before: [], after: [] });
  try {
    body();
  } finally {
    scopes.pop();
  }
}

export function it(name: string, run: Hook): void {
  const prefix = scopes.map((scope) => scope.name).join(" › ");
  cases.push({
    name: prefix ? `${prefix} › ${name}` : name,
    run,
    before: scopes.flatMap((scope) => scope.before),
    after: scopes.flatMap((scope) => scope.after).reverse(),
  });
}
export const test = it;

export function beforeEach(hook: Hook): void {
  scopes[scopes.length - 1]?.before.push(hook);
}

export function afterEach(hook: Hook): void {
  scopes[scopes.length - 1]?.after.push(hook);
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  try {
    return (
      JSON.stringify(value, (_, v: unknown) =>
        v instanceof Map ? Object.fromEntries(v) : v,
      )?.slice(0, 300) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

/** equal is vitest's toEqual: structural, undefined properties count as absent. */
function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return (
      a instanceof Uint8Array &&
      b instanceof Uint8Array &&
      a.length === b.length &&
      a.every((x, i) => x === b[i])
    );
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equal(v, b.get(k))) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = (o: object) =>
    Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

export function expect(actual: unknown) {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`expected ${show(actual)} ${what}`);
  };
  return {
    toBe: (expected: unknown) => check(Object.is(actual, expected), `to be ${show(expected)}`),
    toEqual: (expected: unknown) => check(equal(actual, expected), `to equal ${show(expected)}`),
    toBeGreaterThan: (n: number) => check((actual as number) > n, `to be > ${n}`),
    toBeGreaterThanOrEqual: (n: number) => check((actual as number) >= n, `to be >= ${n}`),
    toBeLessThan: (n: number) => check((actual as number) < n, `to be < ${n}`),
    toBeInstanceOf: (type: abstract new (...args: never[]) => unknown) =>
      check(actual instanceof type, `to be an instance of ${type.name}`),
    toMatch: (pattern: RegExp | string) =>
      check(
        typeof actual === "string" &&
          (typeof pattern === "string" ? actual.includes(pattern) : pattern.test(actual)),
        `to match ${String(pattern)}`,
      ),
  };
}

export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms),
    ),
  ]);
}

/** run runs every registered case in order and reports each one. */
export async function run(timeoutMs = 20_000): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const testCase of cases) {
    const started = performance.now();
    try {
      for (const hook of testCase.before)
        await within(Promise.resolve(hook()), timeoutMs, "beforeEach");
      try {
        await within(Promise.resolve(testCase.run()), timeoutMs, "the test");
      } finally {
        for (const hook of testCase.after)
          await within(Promise.resolve(hook()), timeoutMs, "afterEach");
      }
      results.push({ name: testCase.name, ok: true, ms: performance.now() - started });
    } catch (error) {
      results.push({
        name: testCase.name,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        ms: performance.now() - started,
      });
    }
  }
  return results;
}
