/**
 * Shapes: small checkers that hold a value received from outside (a client, a peer) against the
 * declared shape of a message, before anything reads it. A checker returns a copy of the value
 * holding only the declared fields, typed, or throws a ShapeError naming the field
 * (`request.transaction.puts[2].id`) and what is wrong.
 * They check types and structure only; what the values mean (a valid id, a known tag, a
 * replication factor in range) is for the layer that owns them.
 */

/** ShapeError says which field of a received value does not match its declared shape, and why. */
export class ShapeError extends Error {
  override name = "ShapeError";
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/** Shape checks `value`, found at `field`, and returns it typed, or throws a ShapeError. */
export type Shape<T> = (value: unknown, field: string) => T;

/** Optional marks an object field that may be absent (or undefined). */
export interface Optional<T> {
  readonly optional: Shape<T>;
}

type Field = Shape<unknown> | Optional<unknown>;
type Required<F> = { [K in keyof F]: F[K] extends Optional<unknown> ? never : K }[keyof F];
type Omitted<F> = { [K in keyof F]: F[K] extends Optional<unknown> ? K : never }[keyof F];

/** ObjectOf is the type an object shape checks for. */
export type ObjectOf<F> = {
  readonly [K in Required<F>]: F[K] extends Shape<infer T> ? T : never;
} & {
  readonly [K in Omitted<F>]?: F[K] extends Optional<infer T> ? T : never;
};

/** describeValue names a value in an error message, briefly, whatever its size. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  switch (typeof value) {
    case "undefined":
      return "nothing";
    case "string":
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

function wrong(field: string, expected: string, value: unknown): ShapeError {
  return value === undefined
    ? new ShapeError(field, `is missing: it must be ${expected}`)
    : new ShapeError(field, `must be ${expected}, got ${describeValue(value)}`);
}

export const string: Shape<string> = (value, field) => {
  if (typeof value !== "string") throw wrong(field, "a string", value);
  return value;
};

export const boolean: Shape<boolean> = (value, field) => {
  if (typeof value !== "boolean") throw wrong(field, "true or false", value);
  return value;
};

/** number is any finite number (NaN and the infinities are refused). */
export const number: Shape<number> = (value, field) => {
  if (typeof value !== "number" || !Number.isFinite(value)) throw wrong(field, "a number", value);
  return value;
};

/** integer is a whole number that a double holds exactly. */
export const integer: Shape<number> = (value, field) => {
  if (!Number.isSafeInteger(value)) throw wrong(field, "a whole number", value);
  return value as number;
};

/** unknownValue accepts anything: its owner checks it (a document body, for one). */
export const unknownValue: Shape<unknown> = (value) => value;

export function optional<T>(shape: Shape<T>): Optional<T> {
  return { optional: shape };
}

export function nullable<T>(shape: Shape<T>): Shape<T | null> {
  return (value, field) => (value === null ? null : shape(value, field));
}

/** oneOf accepts one of a few strings. */
export function oneOf<const T extends string>(...values: readonly T[]): Shape<T> {
  const expected = values.map((v) => JSON.stringify(v)).join(" or ");
  return (value, field) => {
    if (typeof value !== "string" || !values.includes(value as T))
      throw wrong(field, expected, value);
    return value as T;
  };
}

/** either accepts what the first shape accepts, else what the second does. */
export function either<A, B>(first: Shape<A>, second: Shape<B>, expected: string): Shape<A | B> {
  return (value, field) => {
    try {
      return first(value, field);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
    }
    try {
      return second(value, field);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      throw wrong(field, expected, value);
    }
  };
}

/** list accepts an array whose every item has `item`'s shape, at most `itemsMax` of them. */
export function list<T>(item: Shape<T>, itemsMax: number): Shape<readonly T[]> {
  return (value, field) => {
    if (!Array.isArray(value)) throw wrong(field, "a list", value);
    if (value.length > itemsMax)
      throw new ShapeError(field, `holds ${value.length} items; at most ${itemsMax}`);
    const items: T[] = new Array<T>(value.length);
    for (let k = 0; k < value.length; k++) items[k] = item(value[k], `${field}[${k}]`);
    return items;
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** record accepts a plain object whose every value has `entry`'s shape, at most `keysMax` keys. */
export function record<T>(entry: Shape<T>, keysMax: number): Shape<Readonly<Record<string, T>>> {
  return (value, field) => {
    if (!isPlainObject(value)) throw wrong(field, "an object", value);
    const keys = Object.keys(value);
    if (keys.length > keysMax)
      throw new ShapeError(field, `holds ${keys.length} keys; at most ${keysMax}`);
    // fromEntries defines each key as the object's own, "__proto__" included.
    return Object.fromEntries(keys.map((key) => [key, entry(value[key], `${field}.${key}`)]));
  };
}

/**
 * object accepts a plain object with the declared fields (optional ones may be absent or
 * undefined) and returns a copy of just those: a field it does not declare is never read, and
 * never travels further into the server (into a Raft command or onto the disk).
 */
export function object<F extends Record<string, Field>>(fields: F): Shape<ObjectOf<F>> {
  const entries = Object.entries(fields);
  return (value, field) => {
    if (!isPlainObject(value)) throw wrong(field, "an object", value);
    const checked: Record<string, unknown> = {};
    for (const [name, shape] of entries) {
      const at = `${field}.${name}`;
      const found = Object.hasOwn(value, name) ? value[name] : undefined;
      if (typeof shape === "function") checked[name] = shape(found, at);
      else if (found !== undefined) checked[name] = shape.optional(found, at);
    }
    return checked as ObjectOf<F>;
  };
}

/**
 * tagged accepts an object whose `tag` field names one of `variants`, and checks it against that
 * variant's shape. `what` names the family in errors ("request type", "peer message type").
 */
export function tagged<const K extends string, V extends Record<string, Shape<unknown>>>(
  tag: K,
  what: string,
  variants: V,
): Shape<
  { [T in keyof V]: { readonly [P in K]: T } & (V[T] extends Shape<infer S> ? S : never) }[keyof V]
> {
  const known = Object.keys(variants);
  return (value, field) => {
    if (!isPlainObject(value)) throw wrong(field, "an object", value);
    const kind = Object.hasOwn(value, tag) ? value[tag] : undefined;
    const at = `${field}.${tag}`;
    if (typeof kind !== "string") throw wrong(at, `one of ${known.join(", ")}`, kind);
    if (!Object.hasOwn(variants, kind))
      throw new ShapeError(
        at,
        `names an unknown ${what} ${describeValue(kind)}; known: ${known.join(", ")}`,
      );
    return { [tag]: kind, ...(variants[kind]!(value, field) as object) } as never;
  };
}
