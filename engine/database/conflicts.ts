import { compareChangeVectors, formatChangeVector, mergeChangeVectors } from "../core/index.ts";
import type { DocumentVersion } from "./items.ts";
import { canonicalJson } from "./json.ts";

/**
 * ConflictResolution is the database's policy for concurrent versions: "latest" (RavenDB's
 * default, ResolveToLatest) keeps the version with the latest @last-modified; "none" keeps every
 * version until a put of the document resolves them.
 */
export type ConflictResolution = "latest" | "none";

/** IncomingDecision is what to do with a replicated version of a document. */
export type IncomingDecision =
  /** The instance already has this version or a newer one. */
  | { readonly action: "skip" }
  /**
   * The version (possibly a merge) becomes the current one; any kept conflicts are resolved.
   * `concurrent` says it came out of concurrent versions: equal contents, or the latest won.
   */
  | {
      readonly action: "write";
      readonly version: DocumentVersion;
      readonly concurrent?: "identical" | "latest";
    }
  /** Resolution is off: keep exactly these versions as the document's conflicts. */
  | { readonly action: "conflict"; readonly versions: readonly DocumentVersion[] };

/**
 * decideIncoming compares a replicated version with what the instance holds for its id: the
 * current version, or the versions kept in conflict. Concurrent versions with identical content
 * are not a conflict (their vectors merge); otherwise the policy decides.
 */
export function decideIncoming(
  current: DocumentVersion | undefined,
  conflicts: readonly DocumentVersion[],
  incoming: DocumentVersion,
  resolution: ConflictResolution,
): IncomingDecision {
  if (conflicts.length > 0) {
    const orders = conflicts.map((kept) =>
      compareChangeVectors(kept.changeVector, incoming.changeVector),
    );
    if (orders.some((order) => order === "equal" || order === "already-merged"))
      return { action: "skip" };
    // Versions the incoming one supersedes drop out; the rest still conflict with it.
    const remaining = conflicts.filter((_, index) => orders[index] === "conflict");
    return settle([...remaining, incoming], resolution);
  }
  if (current === undefined) return { action: "write", version: incoming };
  const order = compareChangeVectors(current.changeVector, incoming.changeVector);
  if (order === "equal" || order === "already-merged") return { action: "skip" };
  if (order === "update") return { action: "write", version: incoming };
  return settle([current, incoming], resolution);
}

function settle(
  versions: readonly DocumentVersion[],
  resolution: ConflictResolution,
): IncomingDecision {
  if (versions.length === 1) return { action: "write", version: versions[0]! };
  const first = contentKey(versions[0]!);
  const identical = versions.every((version) => contentKey(version) === first);
  if (identical || resolution === "latest")
    return {
      action: "write",
      version: resolveToLatest(versions),
      concurrent: identical ? "identical" : "latest",
    };
  return { action: "conflict", versions };
}

/**
 * resolveToLatest picks the version with the latest @last-modified and gives it the merge of all
 * vectors, so it supersedes every version it was chosen from. Ties are broken by content, not by
 * change vector: a resolved version carries a merged vector but keeps its winner's time and
 * content, so resolving pairwise in any order on any instance picks the same winner.
 */
export function resolveToLatest(versions: readonly DocumentVersion[]): DocumentVersion {
  let winner = versions[0];
  if (winner === undefined) throw new RangeError("resolveToLatest needs at least one version");
  for (const version of versions.slice(1)) {
    const later =
      version.lastModifiedMs > winner.lastModifiedMs ||
      (version.lastModifiedMs === winner.lastModifiedMs &&
        contentKey(version) > contentKey(winner));
    if (later) winner = version;
  }
  const merged = mergeChangeVectors(...versions.map((version) => version.changeVector));
  return { ...winner, changeVector: formatChangeVector(merged) };
}

/**
 * contentKey is a version's content as comparable text; a delete sorts before every document, so
 * at equal times a live version wins over a delete.
 */
export function contentKey(version: DocumentVersion): string {
  if (version.body === null) return "";
  const attachments = [...version.attachments]
    .map((info) => ({
      name: info.name,
      hash: info.hash,
      size: info.size,
      contentType: info.contentType,
    }))
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  return canonicalJson({ collection: version.collection, body: version.body, attachments });
}

/** revisionBringsUp tells whether a replicated revision is newer than the local document. */
export function revisionBringsUp(
  current: DocumentVersion | undefined,
  conflicted: boolean,
  revision: DocumentVersion,
): boolean {
  // A conflicted document is left alone: the conflict is settled by its versions, not history.
  if (conflicted) return false;
  if (current === undefined) return true;
  return compareChangeVectors(current.changeVector, revision.changeVector) === "update";
}
