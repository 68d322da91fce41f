/**
 * After an action the control that started it is often gone (Kill becomes Restart) or was
 * disabled while the cluster worked, and browsers then drop focus to the page body. focusSoon puts
 * it on the next sensible control once the playground has re-rendered: it tries for `frames`
 * animation frames, then focuses `fallback` if given.
 */
export function focusSoon(
  target: Target,
  { frames = 30, fallback }: { frames?: number; fallback?: Target } = {},
): void {
  const enabled = (which: Target) => {
    const element = typeof which === "string" ? document.getElementById(which) : which();
    return element && !(element as HTMLButtonElement).disabled ? element : null;
  };
  // Focus the reader has put somewhere else meanwhile stays there.
  const from = document.activeElement;
  const untouched = () =>
    !document.activeElement ||
    document.activeElement === document.body ||
    document.activeElement === from;
  const attempt = (left: number) => {
    if (!untouched()) return;
    const element = enabled(target);
    if (element) {
      element.focus();
      return;
    }
    // The state that enables the control may land a frame later (a refresh after the action).
    if (left > 0) requestAnimationFrame(() => attempt(left - 1));
    else if (fallback) enabled(fallback)?.focus();
  };
  requestAnimationFrame(() => attempt(frames));
}

type Target = string | (() => HTMLElement | null | undefined);

/** domId turns a URL or name into something safe inside an element id. */
export function domId(text: string): string {
  return text.replace(/[^a-zA-Z0-9_-]/g, "_");
}
