// Wrong on purpose (exercise 1): joins B and C, but reads the topology from 127.0.0.1, where it was
// made, instead of asking 127.0.0.3 whether it knows it too.
import { DocumentStore } from "rookery";
import type { ClusterHandle, DocumentStore as Store } from "rookery";

export default async (cluster: ClusterHandle, store: Store) => {
  await store.maintenance.createDatabase({ name: "Spade" });
  for (const url of cluster.urls.slice(1)) await store.maintenance.addNodeToCluster(url);
  await cluster.waitFor((c) => c.servers.every((s) => s.tag !== "?" && s.leader !== null));
  const onA = new DocumentStore({ urls: [cluster.urls[0]!], network: cluster.network });
  await onA.initialize().maintenance.getClusterTopology();
};
