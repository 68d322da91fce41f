/**
 * The fs backend's index of its own log: for every live key, where the JSON of its latest value
 * sits (byte offset and length). It holds no values, only positions, yet it is what lets `load`
 * decode just the live bytes, compaction copy just the live lines, and auto-compaction compare the
 * log's size with the live data's.
 */
import { operationFramingChars } from "./codec.ts";

/**
 * Slot is one live key's place. While a compaction writes the next log it also notes where the
 * value sits there (`carriedAt`); the slot's `epoch` says which of the two positions is current,
 * so swapping logs is one counter increment rather than a pass over every key.
 */
export interface Slot {
  /** Where the value's JSON starts in the log of epoch `epoch`. */
  at: number;
  bytes: number;
  epoch: number;
  /** Where it starts in the log of epoch `epoch + 1`, once a compaction has copied it there. */
  carriedAt: number;
}

/** LiveValue is where one live key's value sits in the current log. */
export interface LiveValue {
  readonly key: string;
  readonly at: number;
  readonly bytes: number;
}

export class LogIndex {
  private readonly stores = new Map<string, Map<string, Slot>>();
  /** Which log is current: increments each time a compacted log replaces it. */
  private epoch = 0;
  private live = 0;

  /**
   * liveBytes is about what a compacted log would take: the bytes of every live key's line (its
   * value, its key as JSON, its store and framing), less the records' headers.
   */
  get liveBytes(): number {
    return this.live;
  }

  /** put records that `store`/`key`'s value now sits at `at` in the current log. */
  put(store: string, key: string, at: number, bytes: number): void {
    let keys = this.stores.get(store);
    if (!keys) this.stores.set(store, (keys = new Map()));
    const slot = keys.get(key);
    if (slot) {
      this.live += bytes - slot.bytes;
      slot.at = at;
      slot.bytes = bytes;
      slot.epoch = this.epoch;
      return;
    }
    keys.set(key, { at, bytes, epoch: this.epoch, carriedAt: -1 });
    this.live += bytes + keyBytes(key) + store.length + operationFramingChars;
  }

  delete(store: string, key: string): void {
    const keys = this.stores.get(store);
    const slot = keys?.get(key);
    if (!keys || !slot) return;
    keys.delete(key);
    this.live -= slot.bytes + keyBytes(key) + store.length + operationFramingChars;
    if (keys.size === 0) this.stores.delete(store);
  }

  /** storeNames lists the stores that have live keys. */
  storeNames(): string[] {
    return [...this.stores.keys()];
  }

  /** values lists where each live key of `store` sits in the current log. */
  *values(store: string): Iterable<LiveValue> {
    for (const [key, slot] of this.stores.get(store) ?? []) {
      yield { key, at: this.position(slot), bytes: slot.bytes };
    }
  }

  /**
   * liveSlot is compaction's question: the slot of `store`/`key` if its current value is the one
   * at `at` in the current log, else undefined (an older value, or a deleted key).
   */
  liveSlot(store: string, key: string, at: number): Slot | undefined {
    const slot = this.stores.get(store)?.get(key);
    return slot && this.position(slot) === at ? slot : undefined;
  }

  /** carry notes where compaction copied a live slot's value: `carriedAt` in the compacted log. */
  carry(slot: Slot, carriedAt: number): void {
    if (slot.epoch !== this.epoch) {
      // Carried by the previous compaction and not written since: settle it in this epoch first.
      slot.at = slot.carriedAt;
      slot.epoch = this.epoch;
    }
    slot.carriedAt = carriedAt;
  }

  /**
   * promote makes the compacted log current. Every live key must have been carried into it after
   * its last put, which compaction guarantees by reading the log to its end with writes paused.
   */
  promote(): void {
    this.epoch++;
  }

  private position(slot: Slot): number {
    return slot.epoch === this.epoch ? slot.at : slot.carriedAt;
  }
}

/**
 * keyBytes is what `key` takes between its quotes in a line: UTF-8 with JSON's escapes. Counting
 * characters instead would make a log of long non-ASCII or escaped keys look twice its live data
 * even right after a compaction, so automatic compaction would rewrite it after every few writes.
 */
function keyBytes(key: string): number {
  let bytes = 0;
  for (let index = 0; index < key.length; index++) {
    const unit = key.charCodeAt(index);
    if (unit < 0x20)
      bytes +=
        unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d ? 2 : 6;
    else if (unit === 0x22 || unit === 0x5c) bytes += 2;
    else if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit < 0xd800 || unit > 0xdfff) bytes += 3;
    else {
      const next = key.charCodeAt(index + 1);
      // A surrogate pair is 4 bytes of UTF-8; a lone surrogate JSON writes as \uXXXX.
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 6;
    }
  }
  return bytes;
}
