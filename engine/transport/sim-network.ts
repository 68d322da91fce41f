import type { Random } from "../core/index.ts";

/**
 * NetworkScheduler is what the simulated network needs from its simulator: virtual time, a seeded
 * random for its faults, and a way to run something later in virtual time.
 */
export interface NetworkScheduler {
  readonly random: Random;
  nowMs(): number;
  schedule(delayMs: number, run: () => void): void;
}

/** NetworkFaults describes how badly the simulated network behaves; all of it is seeded. */
export interface NetworkFaults {
  /** One-way latency is drawn uniformly from [latencyMinMs, latencyMaxMs]. */
  latencyMinMs: number;
  latencyMaxMs: number;
  /** Probability that a message is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Probability that a message is held back by up to reorderDelayMaxMs extra. */
  reorderRate: number;
  reorderDelayMaxMs: number;
}

export const reliableNetwork: NetworkFaults = {
  latencyMinMs: 1,
  latencyMaxMs: 3,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMaxMs: 0,
};

/** The MIT 6.5840 lab's unreliable network: up to 27 ms delay, 10% of messages lost. */
export const unreliableNetwork: NetworkFaults = {
  latencyMinMs: 0,
  latencyMaxMs: 26,
  lossRate: 0.1,
  duplicateRate: 0.02,
  reorderRate: 0.05,
  reorderDelayMaxMs: 60,
};

/** Where a message of the simulated network is addressed. */
export interface Addressed {
  readonly from: string;
  readonly to: string;
}

/** NetworkStats counts what the network carried, for message-count tests and benches. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
}

/**
 * SimNetwork carries messages between simulated nodes with seeded latency, loss, duplication and
 * reordering, and cuts links: per node (disconnect), per direction (one-way partitions) or between
 * groups. A message already on the wire when its link is cut is lost, as on a real network.
 */
export class SimNetwork<M extends Addressed> {
  faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0 };
  private readonly blocked = new Set<string>();
  private readonly isolated = new Set<string>();
  private readonly linkLatencyMs = new Map<string, number>();
  /** When the last in-order message on each link arrives; later ones may not overtake it. */
  private readonly linkClearMs = new Map<string, number>();

  constructor(
    private readonly sim: NetworkScheduler,
    private readonly deliver: (message: M) => void,
    faults: NetworkFaults = reliableNetwork,
    /** Told of each message the network loses, and why (the book traces failed sends). */
    private readonly dropped: (message: M, reason: string) => void = () => {},
  ) {
    this.faults = { ...faults };
  }

  send(message: M): void {
    this.stats.sent++;
    const up = this.linkUp(message.from, message.to);
    if (!up || this.sim.random.chance(this.faults.lossRate)) {
      this.stats.dropped++;
      this.dropped(
        message,
        up
          ? "lost on a lossy link"
          : `the network between ${message.from} and ${message.to} is cut`,
      );
      return;
    }
    this.scheduleDelivery(message);
    if (this.sim.random.chance(this.faults.duplicateRate)) this.scheduleDelivery(message);
  }

  /** linkUp tells whether `from` can currently reach `to`. */
  linkUp(from: string, to: string): boolean {
    return (
      !this.isolated.has(from) && !this.isolated.has(to) && !this.blocked.has(linkKey(from, to))
    );
  }

  /** disconnect cuts every link of `node` (the MIT lab's disconnect). */
  disconnect(node: string): void {
    this.isolated.add(node);
  }

  connect(node: string): void {
    this.isolated.delete(node);
  }

  /** block cuts the link in one direction only: `from` can no longer reach `to`. */
  block(from: string, to: string): void {
    this.blocked.add(linkKey(from, to));
  }

  /** partition cuts every link between the two groups, in both directions. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.block(a, b);
        this.block(b, a);
      }
    }
  }

  /** heal restores every link and reconnects every node. */
  heal(): void {
    this.blocked.clear();
    this.isolated.clear();
  }

  /** healLinksOf restores every link to or from `nodes` and reconnects them; other cuts stay. */
  healLinksOf(nodes: readonly string[]): void {
    const touched = new Set(nodes);
    for (const key of [...this.blocked]) {
      const [from, to] = key.split(">") as [string, string];
      if (touched.has(from) || touched.has(to)) this.blocked.delete(key);
    }
    for (const node of nodes) this.isolated.delete(node);
  }

  /** setLinkLatency fixes the one-way latency of one direction (for skewed-latency scenarios). */
  setLinkLatency(from: string, to: string, latencyMs: number | undefined): void {
    if (latencyMs === undefined) this.linkLatencyMs.delete(linkKey(from, to));
    else this.linkLatencyMs.set(linkKey(from, to), latencyMs);
  }

  private scheduleDelivery(message: M): void {
    const random = this.sim.random;
    const fixed = this.linkLatencyMs.get(linkKey(message.from, message.to));
    let delayMs =
      fixed ??
      this.faults.latencyMinMs +
        random.next() * (this.faults.latencyMaxMs - this.faults.latencyMinMs);
    const key = linkKey(message.from, message.to);
    if (random.chance(this.faults.reorderRate)) {
      delayMs += random.next() * this.faults.reorderDelayMaxMs;
    } else {
      // Like a TCP connection, a link keeps its order unless the reorder fault says otherwise.
      const clearMs = this.linkClearMs.get(key) ?? 0;
      delayMs = Math.max(delayMs, clearMs - this.sim.nowMs());
      this.linkClearMs.set(key, this.sim.nowMs() + delayMs);
    }
    this.sim.schedule(delayMs, () => {
      if (!this.linkUp(message.from, message.to)) {
        this.stats.dropped++;
        this.dropped(message, "the network was cut while it was on its way");
        return;
      }
      this.stats.delivered++;
      this.deliver(message);
    });
  }
}

function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}
