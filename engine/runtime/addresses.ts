/**
 * serverUrl is the address of the `index`-th server (0-based), as in the chapter:
 * http://127.0.0.1:8080, http://127.0.0.2:8080 … Every runtime names its servers this way, so the
 * book, the CLI and the tests read alike. It lives alone so a page can import it without the
 * simulator.
 */
export function serverUrl(index: number): string {
  return `http://127.0.0.${index + 1}:8080`;
}
