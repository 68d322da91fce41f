/**
 * Stopping cleanly on SIGINT and SIGTERM, and when the parent process goes away. The last case is
 * `npm run …`: npm runs a script through `sh -c`, and when npm gets SIGTERM the shell dies without
 * passing the signal on, so the CLI would keep its servers running with nobody to stop them.
 */

/** How often the parent is looked at. */
const parentPollMs = 500;

const exitCodes: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * onStop calls `stop` once, on the first SIGINT or SIGTERM or when the parent exits, then exits
 * with 128 + the signal's number (130, 143; 129 when the parent went away). A second signal while
 * stopping exits at once. Returns a function that removes the handlers (call it after a normal end).
 */
export function onStop(stop: (reason: string) => Promise<void>): () => void {
  let stopping = false;
  const parent = process.ppid;
  const handle = (reason: string, code: number): void => {
    if (stopping) process.exit(code);
    stopping = true;
    void stop(reason)
      .catch((error: unknown) => {
        process.stderr.write(
          `while stopping: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      })
      .finally(() => process.exit(code));
  };
  const listeners = Object.entries(exitCodes).map(([signal, code]) => {
    const listener = (): void => handle(signal, code);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  const watch = setInterval(() => {
    if (process.ppid !== parent) handle("the parent process exited", 129);
  }, parentPollMs);
  watch.unref();
  return () => {
    clearInterval(watch);
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}
