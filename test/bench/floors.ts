/**
 * Floors: what the machine costs before any engine work, measured in the same run as the worker
 * benchmark, so its targets can be read against them. Each floor does the least a target's path
 * cannot avoid, with no Rookery code in it:
 * - hop: one replication batch carrying one 1 KB document, posted from one bare worker thread to
 *   another, one per millisecond (the pace of the lag samples), timed on the two threads' epoch
 *   clocks;
 * - serverWrite: receiving transactions of 100 1 KB documents (structured-clone decode), printing
 *   each body once, checksumming it into a log buffer, and one append + fdatasync per group of
 *   `writers` transactions: a server with no database in it;
 * - threadTimes and threadUse: CPU time and time spent waiting for a CPU of every thread of this process between
 *   two snapshots (Linux /proc schedstat), which shows how busy the cores were during a window.
 */
import {
  closeSync,
  fdatasyncSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import v8 from "node:v8";
import Worker from "web-worker";
import { crc32 } from "node:zlib";

export type Stats = { median: number; p99: number; n: number };

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { median: round(at(0.5)), p99: round(at(0.99)), n: sorted.length };
}

export const moduleUrl = (code: string): string =>
  `data:text/javascript,${encodeURIComponent(code)}`;

// The sender posts `hops` batches, one per millisecond, each stamped with its epoch time just
// before postMessage; the receiver posts each batch's one-way time (its epoch clock minus the
// stamp) to the host.
const hopSender = moduleUrl(`
  self.addEventListener("message", (event) => {
    const { port, hops } = event.data;
    const pad = "p".repeat(1000);
    let sent = 0;
    const hop = () => {
      sent++;
      const item = { kind: "document", id: "lag/" + sent, collection: "Lag", changeVector: "A:" + sent + "-AaaaAaaaAaaaAaaaAaaaAa",
        lastModifiedMs: performance.timeOrigin + performance.now(), bodyJson: JSON.stringify({ i: sent, pad }), attachments: [], etag: sent, transaction: sent };
      const batch = { type: "replication-wire-batch", database: "Lag", from: "A", to: "B", sourceDatabaseId: "AaaaAaaaAaaaAaaaAaaaAa",
        afterEtag: sent - 1, lastEtag: sent, transactions: [{ transaction: sent, items: [item] }] };
      port.postMessage({ atMs: performance.timeOrigin + performance.now(), batch });
      if (sent < hops) setTimeout(hop, 1);
    };
    hop();
  });
`);
const hopReceiver = moduleUrl(`
  self.addEventListener("message", (event) => {
    const { port, hops } = event.data;
    const times = [];
    port.onmessage = (message) => {
      times.push(performance.timeOrigin + performance.now() - message.data.atMs);
      if (times.length === hops) self.postMessage(times);
    };
    self.postMessage("ready");
  });
`);

/** bareHop: the one-way time of a 1-document batch between two bare threads, one per millisecond. */
export async function bareHop(hops: number): Promise<Stats> {
  const sender = new Worker(hopSender, { type: "module" });
  const receiver = new Worker(hopReceiver, { type: "module" });
  try {
    const { port1, port2 } = new MessageChannel();
    const ready = new Promise<void>((resolve) =>
      receiver.addEventListener("message", () => resolve(), { once: true }),
    );
    receiver.postMessage({ port: port2, hops }, [port2]);
    await ready;
    const times = new Promise<number[]>((resolve) =>
      receiver.addEventListener("message", (event: MessageEvent<number[]>) => resolve(event.data)),
    );
    sender.postMessage({ port: port1, hops }, [port1]);
    // The first tenth runs while the threads warm up.
    return stats((await times).slice(Math.floor(hops / 10)));
  } finally {
    sender.terminate();
    receiver.terminate();
  }
}

/**
 * serverWriteFloor: documents per second made durable by a "server" that only decodes the
 * clients' transactions, prints each body, frames and checksums it, and appends + fdatasyncs one
 * group per `writers` transactions (the most the real server's group commit can gather).
 */
export function serverWriteFloor(
  dir: string,
  writers: number,
  runMs: number,
): { docsPerSecond: number } {
  const pad = "p".repeat(1000);
  const requests = Array.from({ length: writers }, (_, writer) =>
    v8.serialize({
      type: "batch",
      database: "Load",
      transaction: {
        puts: Array.from({ length: 100 }, (_, d) => ({
          id: `load/${writer}/1/${d}`,
          body: { writer, k: 1, d, pad },
        })),
      },
    }),
  );
  const file = join(dir, "floor.log");
  const fd = openSync(file, "w");
  const buffer = Buffer.alloc(writers * 100 * 1_200 + 65_536);
  let docs = 0;
  let position = 0;
  const started = performance.now();
  while (performance.now() - started < runMs) {
    let at = 0;
    for (const bytes of requests) {
      const request = v8.deserialize(bytes) as {
        transaction: { puts: { id: string; body: unknown }[] };
      };
      for (const put of request.transaction.puts) {
        const json = JSON.stringify(put.body);
        const start = at;
        at += 8;
        at += buffer.write(JSON.stringify(put.id), at, "utf8");
        buffer[at++] = 0x0a;
        at += buffer.write(json, at, "utf8");
        buffer[at++] = 0x0a;
        buffer.writeUInt32LE(at - start - 8, start);
        buffer.writeUInt32LE(crc32(buffer.subarray(start + 8, at)), start + 4);
        docs++;
      }
    }
    writeSync(fd, buffer, 0, at, position);
    fdatasyncSync(fd);
    position += at;
  }
  const elapsedMs = performance.now() - started;
  closeSync(fd);
  rmSync(file, { force: true });
  return { docsPerSecond: Math.round(docs / (elapsedMs / 1000)) };
}

/** ThreadTimes are each thread's CPU ms and ms waiting for a CPU, by thread id. */
export type ThreadTimes = Map<string, { cpuMs: number; waitMs: number }>;

/** threadTimes snapshots every thread of this process, or returns null where /proc has no schedstat. */
export function threadTimes(): ThreadTimes | null {
  try {
    const times: ThreadTimes = new Map();
    for (const tid of readdirSync("/proc/self/task")) {
      try {
        const [cpuNs, waitNs] = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8")
          .split(" ")
          .map(Number);
        times.set(tid, { cpuMs: (cpuNs ?? 0) / 1e6, waitMs: (waitNs ?? 0) / 1e6 });
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return times;
  } catch {
    return null;
  }
}

/** ThreadUse sums a window between two snapshots; threads that ended meanwhile are not counted. */
export interface ThreadUse {
  readonly wallMs: number;
  readonly cpuMsAllThreads: number;
  readonly busiestThread: { readonly cpuMs: number; readonly waitingForCpuMs: number };
  readonly otherThreadsCpuMs: number;
}

export function threadUse(
  before: ThreadTimes | null,
  after: ThreadTimes | null,
  wallMs: number,
): ThreadUse | null {
  if (!before || !after) return null;
  const deltas: { cpuMs: number; waitMs: number }[] = [];
  for (const [tid, end] of after) {
    const start = before.get(tid) ?? { cpuMs: 0, waitMs: 0 };
    deltas.push({ cpuMs: end.cpuMs - start.cpuMs, waitMs: end.waitMs - start.waitMs });
  }
  const all = deltas.reduce((sum, d) => sum + d.cpuMs, 0);
  const busiest = deltas.reduce((top, d) => (d.cpuMs > top.cpuMs ? d : top), {
    cpuMs: 0,
    waitMs: 0,
  });
  return {
    wallMs: round(wallMs, 1),
    cpuMsAllThreads: round(all, 1),
    busiestThread: { cpuMs: round(busiest.cpuMs, 1), waitingForCpuMs: round(busiest.waitMs, 1) },
    otherThreadsCpuMs: round(all - busiest.cpuMs, 1),
  };
}
