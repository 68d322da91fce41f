// Wrong on purpose (exercise 1): creates a database on every server instead of adding servers to
// the first one's cluster, so each server bootstraps a cluster of its own and calls itself A.
import { DocumentStore } from "rookery";
import type { ClusterHandle } from "rookery";

export default async (cluster: ClusterHandle) => {
  for (const [i, url] of cluster.urls.entries()) {
    const store = new DocumentStore({ urls: [url], network: cluster.network }).initialize();
    await store.maintenance.createDatabase({ name: i === 0 ? "Spade" : `Spade${i + 1}` });
  }
  const onC = new DocumentStore({ urls: [cluster.urls[2]!], network: cluster.network });
  await onC.initialize().maintenance.getClusterTopology();
};
