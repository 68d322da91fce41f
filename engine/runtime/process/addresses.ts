/**
 * Where the servers of a process cluster listen. The chapter's way is one loopback address per
 * server on one port (http://127.0.0.1:8080, http://127.0.0.2:8080 …): Linux routes all of
 * 127.0.0.0/8 to loopback. Elsewhere (macOS needs an alias per address) the fallback is one
 * address and consecutive ports (http://127.0.0.1:8080, http://127.0.0.1:8081 …).
 */
import { createServer } from "node:net";
import { RookeryError } from "../../core/index.ts";

/** AddressPlan is how servers get their addresses: by loopback address or by port. */
export type AddressPlan = "loopback" | "ports";

/** The chapter's port. */
export const defaultPort = 8080;

/** defaultPlan is "loopback" where every 127.x.y.z answers (Linux), "ports" elsewhere. */
export function defaultPlan(): AddressPlan {
  return process.platform === "linux" ? "loopback" : "ports";
}

/** ServerAddress is where one server listens and the URL it is known by. */
export interface ServerAddress {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** serverAddress is the address of the `index`-th server (0-based) under a plan. */
export function serverAddress(plan: AddressPlan, port: number, index: number): ServerAddress {
  if (plan === "loopback") {
    if (index > 253)
      throw new RookeryError(
        "InvalidServers",
        "loopback addresses run out after 127.0.0.254; use addresses: 'ports'",
      );
    const host = `127.0.0.${index + 1}`;
    return { url: `http://${host}:${port}`, host, port };
  }
  const host = "127.0.0.1";
  return { url: `http://${host}:${port + index}`, host, port: port + index };
}

/** isFree tells whether a TCP port can be listened on at `host` right now. */
export function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** anyFreePort asks the system for a free port on `host`. */
function anyFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Attempts at finding a port free on every address before giving up. */
const freePortAttemptsMax = 50;

/**
 * freeBasePort finds a port such that all `servers` addresses of the plan are free: the same
 * port on every loopback address, or `servers` consecutive ports. Tests use it so that several
 * suites can run at once on one machine; a free port can still be taken between this probe and
 * the server's listen, which then fails with EADDRINUSE.
 */
export async function freeBasePort(plan: AddressPlan, servers: number): Promise<number> {
  for (let attempt = 0; attempt < freePortAttemptsMax; attempt++) {
    const base = await anyFreePort("127.0.0.1");
    if (plan === "ports" && base + servers - 1 > 65_535) continue;
    let free = true;
    for (let index = 0; index < servers && free; index++) {
      const address = serverAddress(plan, base, index);
      free = await isFree(address.host, address.port);
    }
    if (free) return base;
  }
  throw new RookeryError(
    "NoFreePort",
    `found no port free on all ${servers} addresses after ${freePortAttemptsMax} tries`,
  );
}
