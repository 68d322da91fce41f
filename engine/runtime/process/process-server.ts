/**
 * ProcessServer is one server as an operating-system process runs it: the same Server as every
 * runtime, on fs storage in its own folder, with a real clock and a tick timer, peers over
 * sockets (SocketTransport) and clients over HTTP (the RavenDB wire subset). It is the whole of
 * `npm run serve -- --node-url …` and the inside of every child of a process cluster.
 */
import { SeededRandom } from "../../core/index.ts";
import type { Clock } from "../../core/index.ts";
import { HttpListener } from "../../http/node-listener.ts";
import { Server } from "../../server/index.ts";
import type { TraceEvent } from "../../server/index.ts";
import type { StorageWarning } from "../../storage/index.ts";
import { openFsStorage } from "../../storage/node.ts";
import { adaptStorage } from "../server-store.ts";
import type { ServerStore } from "../server-store.ts";
import type { ProcessServerConfig } from "./protocol.ts";
import { SocketTransport } from "../../transport/socket.ts";

/** Epoch milliseconds at sub-millisecond resolution, comparable across processes. */
export const processClock: Clock = { nowMs: () => performance.timeOrigin + performance.now() };

/** ProcessServerHooks let the runtime watch the server. */
export interface ProcessServerHooks {
  readonly trace?: (event: TraceEvent) => void;
  readonly storageWarning?: (warning: StorageWarning) => void;
}

/** ProcessServer runs one server on its storage, its sockets and its HTTP address. */
export class ProcessServer {
  private closed = false;

  private constructor(
    readonly server: Server,
    private readonly store: ServerStore,
    private readonly transport: SocketTransport,
    private readonly listener: HttpListener,
    private readonly tickTimer: ReturnType<typeof setInterval>,
  ) {}

  /** port is the port the server listens on (the configured one, or the one a 0 was given). */
  get port(): number {
    return this.listener.address.port;
  }

  /**
   * start opens the storage, recovers the server and listens. It rejects (and leaves nothing
   * open) when the storage is damaged or the address is taken.
   */
  static async start(
    config: ProcessServerConfig,
    hooks: ProcessServerHooks = {},
  ): Promise<ProcessServer> {
    const store = adaptStorage(
      await openFsStorage({
        dir: config.dataDir,
        onWarning: (warning) => hooks.storageWarning?.(warning),
      }),
      null,
    );
    let server: Server | undefined;
    const transport = new SocketTransport(config.url, (envelope) => server?.receive(envelope));
    try {
      server = await Server.start({
        url: config.url,
        storage: store.port,
        transport,
        clock: processClock,
        random: new SeededRandom(config.seed),
        ...(config.timing ? { timing: config.timing } : {}),
        ...(config.replicationLimits ? { replicationLimits: config.replicationLimits } : {}),
        ...(hooks.trace ? { trace: hooks.trace } : {}),
      });
      const listener = await HttpListener.listen({
        host: config.host,
        port: config.port,
        api: server,
        ...config.http,
        upgrade: (request, socket, head) => transport.accept(request, socket, head),
      });
      const running = server;
      const tickTimer = setInterval(() => running.tick(), running.timing.tickMs);
      return new ProcessServer(running, store, transport, listener, tickTimer);
    } catch (error) {
      transport.close();
      await store.close().catch(() => null);
      throw error;
    }
  }

  /**
   * setLinks cuts this server off from `blocked` peers (and from clients too when `isolated`);
   * anything not listed is connected again.
   */
  setLinks(blocked: readonly string[], isolated: boolean): void {
    this.transport.block(blocked);
    this.listener.refuse(isolated);
  }

  /** close stops gracefully: no more ticks or connections, then queued writes finish. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tickTimer);
    this.transport.close();
    await this.listener.close();
    await this.store.close();
  }
}
