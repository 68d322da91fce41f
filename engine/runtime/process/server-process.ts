/**
 * The entry of one server process of a process cluster (bundled to dist/server-process.js by
 * scripts/build-worker.mjs). The parent forks it with the server's config as its one argument and
 * talks to it over the IPC channel (protocol.ts). If that channel closes — the parent exited or
 * was killed — the server shuts down, so no server outlives its cluster.
 */
import { isRookeryError } from "../../core/index.ts";
import type { ServerResponse } from "../../transport/index.ts";
import { StatusReporter } from "../status-reporter.ts";
import { ProcessServer, processClock } from "./process-server.ts";
import type { FromServer, ProcessServerConfig, ToServer } from "./protocol.ts";

/** send posts to the parent; the promise settles once the message left (or could not). */
const send = (message: FromServer): Promise<void> =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, undefined, () => resolve());
  });

const config = JSON.parse(process.argv[2] ?? "{}") as ProcessServerConfig;
let running: ProcessServer | undefined;
let stopping = false;
const reporter = new StatusReporter(() => running?.server, processClock.nowMs);

function push(refreshed?: number): Promise<void> {
  const update = reporter.take(refreshed !== undefined);
  if (!update) return Promise.resolve();
  return send({ kind: "status", ...update, ...(refreshed !== undefined ? { refreshed } : {}) });
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(statusTimer);
  await running?.close().catch(() => null);
  await push();
  process.disconnect?.();
  process.exit(code);
}

async function answer(id: number, request: Extract<ToServer, { kind: "request" }>["request"]) {
  let response: ServerResponse;
  if (!running || stopping)
    response = {
      ok: false,
      error: { code: "ServerUnavailable", message: "the server is stopping" },
    };
  else response = await running.server.handleRequest(request);
  // The status goes first, so the parent's describe() already shows what this request did.
  void push();
  void send({ kind: "response", id, response });
}

process.on("message", (message: ToServer) => {
  switch (message.kind) {
    case "request":
      void answer(message.id, message.request);
      return;
    case "links":
      running?.setLinks(message.blocked, message.isolated);
      return;
    case "refresh":
      void push(message.id);
      return;
    case "shutdown":
      void shutdown(0);
      return;
  }
});
process.on("disconnect", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));

const statusTimer = setInterval(() => void push(), config.statusIntervalMs ?? 50);
try {
  running = await ProcessServer.start(config, {
    trace: (event) => reporter.record(event),
    storageWarning: (warning) =>
      reporter.record({
        type: "server",
        atMs: processClock.nowMs(),
        url: config.url,
        text: `storage: ${warning.message}`,
      }),
  });
  reporter.record({
    type: "server",
    atMs: processClock.nowMs(),
    url: config.url,
    text:
      running.server.tag === "?"
        ? "started (fresh, tag ?)"
        : `started, recovered as node ${running.server.tag}`,
  });
  await send({ kind: "ready", status: reporter.status(), port: running.port });
} catch (error) {
  const code = isRookeryError(error)
    ? error.code
    : ((error as NodeJS.ErrnoException).code ?? "ServerStartFailed");
  const message = error instanceof Error ? error.message : String(error);
  await send({ kind: "failed", code, message: `${config.url} could not start: ${message}` });
  await shutdown(1);
}
