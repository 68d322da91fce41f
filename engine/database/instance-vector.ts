import {
  assert,
  bumpChangeVector,
  formatChangeVector,
  mergeChangeVectorPair,
  parseChangeVector,
  type ChangeVector,
  type NodeTag,
} from "../core/index.ts";

/**
 * OwnEntry is the instance's vector printed around its own etag: a local write changes only
 * that number, so its text is `before + etag + after` instead of a parse, bump and print.
 */
interface OwnEntry {
  readonly index: number;
  readonly tag: NodeTag;
  readonly databaseId: string;
  readonly before: string;
  readonly after: string;
}

/**
 * InstanceVector is the change vector of everything an instance has written or received, kept
 * parsed (to merge and bump) and as text (what versions and the state record carry). Each form
 * is made only when needed: a commit changes the vector per item and reads the text rarely.
 */
export class InstanceVector {
  private parsed: ChangeVector = [];
  private printed: string | undefined = "";
  private own: OwnEntry | undefined;

  /** text is the canonical text of the vector. */
  get text(): string {
    return (this.printed ??= formatChangeVector(this.parsed));
  }

  /** reset replaces the vector (recovery reads it from the state record). */
  reset(text: string): void {
    this.parsed = parseChangeVector(text);
    this.printed = text;
    this.own = undefined;
  }

  /** merge merges a version's vector into the instance's, keeping the larger etag per id. */
  merge(text: string): void {
    // A version that carries the instance's own vector (every local write does) changes nothing.
    if (text === this.printed) return;
    const incoming = parseChangeVector(text);
    const merged = mergeChangeVectorPair(this.parsed, incoming);
    if (merged === this.parsed) return;
    this.parsed = merged;
    this.printed = undefined;
    this.own = undefined;
  }

  /**
   * bump sets this instance's own entry to `etag` (a local write) and returns the new text. The
   * bumped vector has seen everything the instance has, so it simply becomes the instance's
   * vector: merging it back, as a replicated version would be, could change nothing.
   */
  bump(tag: NodeTag, databaseId: string, etag: number): string {
    const own = this.ownEntry(tag, databaseId);
    if (own === undefined) {
      // The first local write (no own entry yet) goes the long way, with every check.
      this.parsed = bumpChangeVector(this.parsed, tag, databaseId, etag);
      this.printed = formatChangeVector(this.parsed);
      return this.printed;
    }
    const previous = this.parsed[own.index]!.etag;
    assert(
      Number.isSafeInteger(etag) && etag >= previous,
      () => `bump of ${databaseId} to ${etag}`,
    );
    const entries = this.parsed.slice();
    entries[own.index] = { tag, etag, databaseId };
    this.parsed = entries;
    this.printed = own.before + etag + own.after;
    return this.printed;
  }

  /** ownEntry finds (and keeps, until the vector changes otherwise) the own entry's text frame. */
  private ownEntry(tag: NodeTag, databaseId: string): OwnEntry | undefined {
    if (this.own !== undefined && this.own.databaseId === databaseId && this.own.tag === tag) {
      return this.own;
    }
    const index = this.parsed.findIndex((entry) => entry.databaseId === databaseId);
    // Another tag under our id would move in the sort order; the long way handles it.
    if (index < 0 || this.parsed[index]!.tag !== tag) return undefined;
    const head = formatChangeVector(this.parsed.slice(0, index));
    const tail = formatChangeVector(this.parsed.slice(index + 1));
    this.own = {
      index,
      tag,
      databaseId,
      before: `${head}${head === "" ? "" : ", "}${tag}:`,
      after: `-${databaseId}${tail === "" ? "" : ", "}${tail}`,
    };
    return this.own;
  }
}
