/**
 * Reading a request target the way RavenDB's client writes them: a leading "?&", value-less
 * flags ("first-topology-update"), percent-encoded ids, repeated parameters (id=…&id=…), and
 * .NET TimeSpans for durations (ravendb-wire.md §1.3, §4).
 */

/** Target is a request target split into decoded path segments and its parameters. */
export interface Target {
  /** The path's segments, each percent-decoded ("/databases/Spade/docs" → [databases, Spade, docs]). */
  readonly segments: readonly string[];
  readonly params: URLSearchParams;
}

/** BadTarget says why a target could not be read. */
export interface BadTarget {
  readonly problem: string;
}

/** parseTarget splits a target; a malformed percent-escape is a problem, not an exception. */
export function parseTarget(target: string): Target | BadTarget {
  const question = target.indexOf("?");
  const path = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? "" : target.slice(question + 1);
  const segments: string[] = [];
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      return { problem: `the path segment "${raw}" is not valid percent-encoding` };
    }
  }
  return { segments, params: new URLSearchParams(query) };
}

/** isBadTarget narrows parseTarget's answer. */
export function isBadTarget(target: Target | BadTarget): target is BadTarget {
  return "problem" in target;
}

const timeSpanPattern = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/;

/**
 * parseTimeSpan reads a .NET TimeSpan ("00:00:15", "1.02:00:00", "00:00:01.500000") as
 * milliseconds, or undefined when the text is not one.
 */
export function parseTimeSpan(text: string): number | undefined {
  const match = timeSpanPattern.exec(text.trim());
  if (!match) return undefined;
  const [, days, hours, minutes, seconds, fraction] = match;
  if (Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  return (
    ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1000 +
    Math.round(fractionMs)
  );
}

/**
 * etagHeader reads a topology etag header as the client sends it (a quoted or bare whole number);
 * undefined when absent or unreadable, which never triggers a refresh.
 */
export function etagHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bare = value.trim().replace(/^"|"$/g, "");
  if (!/^-?\d+$/.test(bare)) return undefined;
  return Number(bare);
}
