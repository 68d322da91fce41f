/**
 * Node tags name servers in a cluster: "A", "B" … "Z", then "ZA" … "ZZ", "ZZA" … (RavenDB's
 * GenerateNodeTag: increment the last letter, and append an "A" when it would pass "Z"). A fresh
 * server that has not joined any cluster shows UNASSIGNED_TAG.
 */
export type NodeTag = string;

/** UNASSIGNED_TAG is what a passive server shows before its first cluster-wide operation. */
export const UNASSIGNED_TAG = "?";

const tagPattern = /^Z*[A-Z]$/;

/** isNodeTag tells whether `text` is a tag the cluster could have assigned. */
export function isNodeTag(text: string): boolean {
  return tagPattern.test(text);
}

/** nextNodeTag returns the tag after `last`, or "A" when no tag was ever assigned. */
export function nextNodeTag(last: NodeTag | undefined): NodeTag {
  if (last === undefined || last === "" || last === UNASSIGNED_TAG) return "A";
  const final = last[last.length - 1]!;
  if (final === "Z") return last + "A";
  return last.slice(0, -1) + String.fromCharCode(final.charCodeAt(0) + 1);
}

/** nodeTagAt returns the tag given to the `index`-th server (0-based) of a cluster. */
export function nodeTagAt(index: number): NodeTag {
  let tag = nextNodeTag(undefined);
  for (let i = 0; i < index; i++) tag = nextNodeTag(tag);
  return tag;
}

/**
 * compareNodeTags orders tags the way they were assigned ("Z" < "ZA" < "ZB"), which is plain
 * ordinal order because every tag is a run of "Z"s followed by one letter.
 */
export function compareNodeTags(a: NodeTag, b: NodeTag): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
