/**
 * Random is the port through which deterministic code receives randomness. Every run is
 * reproducible from the seed of the SeededRandom behind it.
 */
export interface Random {
  /** next returns a float in [0, 1). */
  next(): number;
  /** int returns an integer in [0, bound). */
  int(bound: number): number;
  /** between returns an integer in [low, high]. */
  between(low: number, high: number): number;
  /** chance returns true with probability `p`. */
  chance(p: number): boolean;
  /** pick returns one element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** fork returns an independent stream, so adding draws in one place does not shift another. */
  fork(): Random;
}

/**
 * SeededRandom is sfc32 seeded through splitmix32: small, fast, and good enough for simulation.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  private nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty array");
    return items[this.int(items.length)]!;
  }

  fork(): Random {
    return new SeededRandom(this.nextUint32());
  }
}
