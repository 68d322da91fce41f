/**
 * The MIT 6.5840 Raft tester (src/raft/config.go) rebuilt on RaftSimCluster, for the ports in
 * test/raft/mit-3*.test.ts.
 *
 * Time. The lab's tests sleep in real milliseconds around a "RaftElectionTimeout" of one second,
 * and give a failed leader five seconds to be replaced. Here every bound is virtual time expressed
 * in election timeouts: one lab second is two minimum election timeouts (600 virtual ms by
 * default, i.e. the longest election timeout a node can draw), so `labMs(c, 5000)` – "a leader
 * within 5 s" – is 10 election timeouts. Nothing here sleeps or reads a wall clock.
 *
 * Concurrency. The lab's goroutines (concurrent one() calls, churn clients) become generator tasks
 * scheduled as simulator events: a task yields how many virtual ms it wants to sleep. Everything
 * still happens in one deterministic order per seed.
 *
 * Failures throw with the seed and the cluster's recent trace, so a failing seed can be replayed.
 */
import type { Message, NodeId } from "../../engine/raft/index.ts";
import { RaftSimCluster } from "../../engine/runtime/sim/index.ts";
import type { RaftSimOptions } from "../../engine/runtime/sim/index.ts";
import type { Random } from "../../engine/core/index.ts";

export { RaftSimCluster };

/** labMs converts a duration of the MIT tester (ms, around a 1 s election timeout) to virtual ms. */
export function labMs(c: RaftSimCluster, ms: number): number {
  return (ms * 2 * c.electionTimeoutMs) / 1000;
}

/** The lab's RaftElectionTimeout (1 s) in virtual ms. */
export function labElectionTimeout(c: RaftSimCluster): number {
  return labMs(c, 1000);
}

export function makeCluster(options: RaftSimOptions): RaftSimCluster {
  return new RaftSimCluster({ traceEventsMax: 60, ...options });
}

/** context is what every failure message carries: the seed, virtual time and the recent trace. */
export function context(c: RaftSimCluster): string {
  return `seed ${c.options.seed} at ${c.sim.nowMs().toFixed(1)} virtual ms\nrecent trace:\n${c.recentTrace().join("\n")}`;
}

export function fail(c: RaftSimCluster, message: string): never {
  throw new Error(`${message}\n${context(c)}`);
}

/** peer is MIT's `(i + k) % servers` on node ids. */
export function peer(c: RaftSimCluster, id: NodeId, k: number): NodeId {
  const i = c.ids.indexOf(id);
  if (i < 0) fail(c, `unknown node ${id}`);
  return c.ids[(i + k) % c.ids.length]!;
}

/**
 * checkOneLeader is config.go's: up to 10 polls, each after about half a lab second; fails if a
 * term has two connected leaders, returns the leader of the newest term, or fails after ~5 s.
 */
export function checkOneLeader(c: RaftSimCluster): NodeId {
  for (let iter = 0; iter < 10; iter++) {
    c.runFor(labMs(c, 450 + (iter % 3) * 50));
    const byTerm = new Map<number, NodeId[]>();
    for (const { id, term } of c.leaders()) byTerm.set(term, [...(byTerm.get(term) ?? []), id]);
    let newest = -1;
    for (const [term, ids] of byTerm) {
      if (ids.length > 1) fail(c, `term ${term} has ${ids.length} (>1) leaders: ${ids.join(", ")}`);
      newest = Math.max(newest, term);
    }
    if (newest >= 0) return byTerm.get(newest)![0]!;
  }
  return fail(c, "expected one leader, got none");
}

/** checkTerms is config.go's: every connected server agrees on the term; returns it. */
export function checkTerms(c: RaftSimCluster): number {
  let term = -1;
  for (const id of c.ids) {
    if (!c.isConnected(id)) continue;
    const t = c.status(id)!.term;
    if (term === -1) term = t;
    else if (t !== term) fail(c, `servers disagree on term: ${term} vs ${t} (${id})`);
  }
  return term;
}

/** checkNoLeader is config.go's: no connected server believes it leads. */
export function checkNoLeader(c: RaftSimCluster): void {
  for (const id of c.ids) {
    if (c.isConnected(id) && c.status(id)!.role === "leader") {
      fail(c, `expected no leader among connected servers, but ${id} claims to be leader`);
    }
  }
}

/** crash1 is config.go's: cut the server off and kill it; its persisted state survives. */
export function crash1(c: RaftSimCluster, id: NodeId): void {
  c.disconnect(id);
  if (c.isAlive(id)) c.crash(id);
}

/** start1 is config.go's: (crash1 and) restart from persisted state; the caller connects it. */
export function start1(c: RaftSimCluster, id: NodeId): void {
  crash1(c, id);
  c.restart(id);
}

/** one is config.go's one(): RaftSimCluster.one with the seed and trace on failure. */
export function one(
  c: RaftSimCluster,
  command: string,
  expectedServers: number,
  retry: boolean,
): number {
  try {
    return c.one(command, expectedServers, retry);
  } catch (error) {
    return fail(c, error instanceof Error ? error.message : String(error));
  }
}

export type WaitResult =
  { readonly termMoved: true } | { readonly termMoved: false; readonly command: string | null };

/**
 * wait is config.go's wait(index, n, startTerm): back off 10 ms → 1 s (lab time) for up to 30
 * polls until n servers applied `index`; gives up early ({termMoved}) when a server moved past
 * `startTerm` (-1: never). Fails if too few servers applied it.
 */
export function wait(c: RaftSimCluster, index: number, n: number, startTerm: number): WaitResult {
  let to = 10;
  for (let iter = 0; iter < 30; iter++) {
    if (c.nCommitted(index).count >= n) break;
    c.runFor(labMs(c, to));
    if (to < 1000) to *= 2;
    if (startTerm > -1) {
      for (const id of c.ids) {
        const term = c.status(id)?.term;
        if (term !== undefined && term > startTerm) return { termMoved: true };
      }
    }
  }
  const { count, command } = c.nCommitted(index);
  if (count < n) fail(c, `only ${count} decided for index ${index}; wanted ${n}`);
  return { termMoved: false, command: command ?? null };
}

/** appliedEverywhere lists, per node, the commands it applied (null for noop/membership). */
export function appliedLog(c: RaftSimCluster, id: NodeId): (string | null)[] {
  const result: (string | null)[] = [];
  for (let index = 1; index <= c.appliedIndex(id); index++)
    result.push(c.appliedAt(id, index) ?? null);
  return result;
}

/** appliedAnywhere tells whether any live node applied `command`. */
export function appliedAnywhere(c: RaftSimCluster, command: string): boolean {
  return c.ids.some((id) => c.isAlive(id) && appliedLog(c, id).includes(command));
}

/** maxLogSize is config.go's LogSize(): the largest persisted Raft state, snapshot excluded. */
export function maxLogSize(c: RaftSimCluster): number {
  return Math.max(...c.ids.map((id) => c.logSizeBytes(id)));
}

/**
 * countMessages spies on the network and counts sent messages by type (e.g. installSnapshot).
 * It wraps the instance's send; the engine is untouched.
 */
export function countMessages(c: RaftSimCluster): Map<Message["type"], number> {
  const counts = new Map<Message["type"], number>();
  const send = c.net.send.bind(c.net);
  c.net.send = (message: Message): void => {
    counts.set(message.type, (counts.get(message.type) ?? 0) + 1);
    send(message);
  };
  return counts;
}

/**
 * longReordering is labrpc's setlongreordering(true): while `enabled`, 600 of 900 replies are held
 * back 200 + rand(1 + rand(2000)) lab ms before they enter the network (requests are not delayed).
 * It wraps the instance's send; the engine is untouched.
 */
export function longReordering(c: RaftSimCluster): { enabled: boolean } {
  const random = c.sim.random.fork();
  const state = { enabled: false };
  const send = c.net.send.bind(c.net);
  c.net.send = (message: Message): void => {
    const reply =
      message.type === "appendResponse" ||
      message.type === "voteResponse" ||
      message.type === "preVoteResponse";
    if (state.enabled && reply && random.int(900) < 600) {
      c.sim.schedule(labMs(c, 200 + random.int(1 + random.int(2000))), () => send(message));
    } else {
      send(message);
    }
  };
  return state;
}

/** randomCommand imitates the lab's rand.Int() commands: 19 decimal digits. */
export function randomCommand(random: Random): string {
  const nine = (): string => random.int(1e9).toString().padStart(9, "0");
  return `${1 + random.int(9)}${nine()}${nine()}`;
}

// --- concurrent tasks ---------------------------------------------------------------------------

/** A Task is a lab goroutine: a generator that yields virtual ms to sleep and returns a value. */
export type TaskBody<T> = Generator<number, T, void>;

export interface Task<T> {
  done: boolean;
  value: T | undefined;
}

/** spawn starts a task on the simulator's event queue (it runs as the cluster runs). */
export function spawn<T>(c: RaftSimCluster, body: TaskBody<T>): Task<T> {
  const task: Task<T> = { done: false, value: undefined };
  const step = (): void => {
    const next = body.next();
    if (next.done) {
      task.done = true;
      task.value = next.value;
    } else {
      c.sim.schedule(Math.max(0, next.value), step);
    }
  };
  c.sim.schedule(0, step);
  return task;
}

/** runTasks runs the cluster until every task finished, failing after `timeoutMs`. */
export function runTasks(
  c: RaftSimCluster,
  tasks: readonly Task<unknown>[],
  timeoutMs: number,
  what: string,
): void {
  if (!c.runUntil(() => tasks.every((task) => task.done), timeoutMs))
    fail(c, `${what} did not finish`);
}

/**
 * oneTask is config.go's one() as a task, so several can run at once (TestUnreliableAgree): for
 * up to 10 lab seconds find a connected server that accepts the command, then poll every 20 ms
 * for 2 lab seconds until `expectedServers` applied it at that index.
 */
export function* oneTask(
  c: RaftSimCluster,
  command: string,
  expectedServers: number,
  retry: boolean,
): TaskBody<number> {
  const start = c.sim.nowMs();
  let starts = 0;
  while (c.sim.nowMs() - start < labMs(c, 10_000)) {
    let index = -1;
    for (let k = 0; k < c.ids.length; k++) {
      starts = (starts + 1) % c.ids.length;
      const id = c.ids[starts]!;
      if (!c.isConnected(id)) continue;
      const result = c.propose(id, command);
      if (result.accepted) {
        index = result.index;
        break;
      }
    }
    if (index !== -1) {
      const proposedAt = c.sim.nowMs();
      while (c.sim.nowMs() - proposedAt < labMs(c, 2000)) {
        const { count, command: seen } = c.nCommitted(index);
        if (count > 0 && count >= expectedServers && seen === command) return index;
        yield labMs(c, 20);
      }
      if (!retry) fail(c, `one(${command}) failed to reach agreement at index ${index}`);
    } else {
      yield labMs(c, 50);
    }
  }
  return fail(c, `one(${command}) failed to reach agreement on ${expectedServers} servers`);
}
