/**
 * transport: the messages servers and clients exchange, the port a server sends them through, and
 * the backends that carry them (the simulated network; the MessagePort mesh between workers).
 */
export type * from "./messages.ts";
export { SimNetwork, reliableNetwork, unreliableNetwork } from "./sim-network.ts";
export type { Addressed, NetworkFaults, NetworkScheduler, NetworkStats } from "./sim-network.ts";
export { PortMesh, clientLink, noFaults } from "./port-mesh.ts";
export type {
  LinkFaults,
  PeerBound,
  PortMeshEvents,
  TimedResponse,
  WorkerBound,
} from "./port-mesh.ts";
export { checkEnvelope, checkPeerMessage, checkRequest } from "./validate.ts";
export { ShapeError, describeValue } from "./shapes.ts";
