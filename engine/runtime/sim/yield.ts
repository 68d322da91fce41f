/**
 * yieldToEventLoop lets pending promise continuations run before the simulator takes its next
 * event. It is the one place the simulator touches the host's event loop, and it reads no clock:
 * setImmediate in Node, a MessageChannel round trip in browsers (no timer clamping either way).
 */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => void }).setImmediate;
  if (immediate) return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
