/**
 * After an action the control that started it is often gone (Kill becomes Restart) or was
 * disabled while the cluster worked, and browsers then drop focus to the page body. focusSoon puts
 * it on the next sensible control once the playground has re-rendered.
 */
export function focusSoon(target: string | (() => HTMLElement | null | undefined)): void {
  const find = () =>
    typeof target === "string" ? document.getElementById(target) : (target() ?? null);
  const attempt = (left: number) => {
    const element = find();
    if (element && !(element as HTMLButtonElement).disabled) {
      element.focus();
      return;
    }
    // The state that enables the control may land a frame later (a refresh after the action).
    if (left > 0) requestAnimationFrame(() => attempt(left - 1));
  };
  requestAnimationFrame(() => attempt(30));
}

/** domId turns a URL or name into something safe inside an element id. */
export function domId(text: string): string {
  return text.replace(/[^a-zA-Z0-9_-]/g, "_");
}
