import { describe, expect, it } from "vitest";
import { PeerCalls } from "../../engine/server/peer-calls.ts";
import type { PeerMessage } from "../../engine/transport/index.ts";

describe("peer calls (asking another server, bounded by a deadline)", () => {
  it("sends each call with its own request id and resolves it with the answer that carries it", async () => {
    const sent: { url: string; message: PeerMessage }[] = [];
    const calls = new PeerCalls((url, message) => sent.push({ url, message }));
    const first = calls.call(
      "http://127.0.0.2:8080",
      (requestId) => ({ type: "node-info-request", requestId }),
      1_000,
    );
    const second = calls.call(
      "http://127.0.0.3:8080",
      (requestId) => ({ type: "node-info-request", requestId }),
      1_000,
    );
    const ids = sent.map((s) => (s.message as { requestId: number }).requestId);
    expect(new Set(ids).size).toBe(2);
    expect(calls.size).toBe(2);
    calls.answer({
      type: "node-info-result",
      requestId: ids[1]!,
      tag: "C",
      topologyId: null,
      serverId: "s",
    });
    calls.answer({
      type: "node-info-result",
      requestId: ids[0]!,
      tag: "?",
      topologyId: null,
      serverId: "s",
    });
    expect(await first).toMatchObject({ tag: "?" });
    expect(await second).toMatchObject({ tag: "C" });
    expect(calls.size).toBe(0);
  });

  it("gives up at the deadline with no answer, and drops an answer that comes later", async () => {
    const sent: PeerMessage[] = [];
    const calls = new PeerCalls((_url, message) => sent.push(message));
    const call = calls.call(
      "http://127.0.0.2:8080",
      (requestId) => ({ type: "node-info-request", requestId }),
      300,
    );
    calls.expire(299);
    expect(calls.size).toBe(1);
    calls.expire(300);
    expect(await call).toBeUndefined();
    const requestId = (sent[0] as { requestId: number }).requestId;
    expect(() =>
      calls.answer({
        type: "node-info-result",
        requestId,
        tag: "B",
        topologyId: null,
        serverId: "s",
      }),
    ).not.toThrow();
    expect(calls.size).toBe(0);
  });
});
