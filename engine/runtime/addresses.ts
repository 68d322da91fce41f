import { quote, RookeryError } from "../core/index.ts";

/**
 * serverUrl is the address of the `index`-th server (0-based), as in the chapter:
 * http://127.0.0.1:8080, http://127.0.0.2:8080 … Every runtime names its servers this way, so the
 * book, the CLI and the tests read alike. A second cluster on the same network (a sibling, the
 * destination of an external replication) is `network` 1: http://127.0.1.1:8080, .2 …
 * It lives alone so a page can import it without the simulator.
 */
export function serverUrl(index: number, network = 0): string {
  return `http://127.0.${network}.${index + 1}:8080`;
}

/**
 * findServer finds a runtime's record of a server by URL or by node tag, or throws an error that
 * lists what the cluster has. `tagOf` gives each record's tag (its last known one if it is down).
 */
export function findServer<S extends { readonly url: string }>(
  servers: readonly S[],
  tagOrUrl: string,
  tagOf: (server: S) => string,
): S {
  const found =
    servers.find((server) => server.url === tagOrUrl) ??
    servers.find((server) => tagOf(server) === tagOrUrl);
  if (found) return found;
  const known = servers.map((server) => `${tagOf(server)} (${server.url})`).join(", ");
  throw new RookeryError(
    "UnknownServer",
    `no server ${quote(tagOrUrl)} in this cluster; it has ${known}`,
  );
}
