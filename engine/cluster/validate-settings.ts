import { clusterLimits } from "./limits.ts";
import type { RevisionsCollectionConfiguration, RevisionsConfiguration } from "./model.ts";

function collectionProblem(
  where: string,
  configuration: RevisionsCollectionConfiguration,
): string | undefined {
  const keep = configuration.minimumRevisionsToKeep;
  if (keep === null) return undefined;
  if (!Number.isInteger(keep) || keep < 0 || keep > clusterLimits.revisionsToKeepMax) {
    return (
      `${where}: minimumRevisionsToKeep must be a whole number from 0 to ` +
      `${clusterLimits.revisionsToKeepMax}, or null to keep every revision (got ${keep})`
    );
  }
  return undefined;
}

/**
 * revisionsProblem says what is wrong with a revisions configuration, or returns undefined when it
 * can be stored. The shape was checked already; this checks the values.
 */
export function revisionsProblem(revisions: RevisionsConfiguration | null): string | undefined {
  if (revisions === null) return undefined;
  if (revisions.default !== null) {
    const problem = collectionProblem("the default", revisions.default);
    if (problem !== undefined) return problem;
  }
  const names = Object.keys(revisions.collections);
  if (names.length > clusterLimits.revisionsCollectionsMax) {
    const collectionsMax = clusterLimits.revisionsCollectionsMax;
    return `at most ${collectionsMax} collections can be configured (got ${names.length})`;
  }
  for (const name of names) {
    if (name.trim() === "") return "a collection name cannot be empty";
    const problem = collectionProblem(`collection '${name}'`, revisions.collections[name]!);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
