/**
 * Atom holds one value and tells subscribers when it changes: the whole state store of a
 * playground (the theme designer of Starlight's docs works the same way). Views subscribe; the
 * session is the only writer.
 */
export class Atom<T> {
  private value: T;
  private readonly listeners = new Set<(value: T) => void>();

  constructor(initial: T) {
    this.value = initial;
  }

  get(): T {
    return this.value;
  }

  set(next: T): void {
    if (Object.is(next, this.value)) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener(next);
  }

  /** update replaces the value with `change(value)`, for partial updates of object states. */
  update(change: (value: T) => T): void {
    this.set(change(this.value));
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
