import type { PeerMessage } from "../transport/index.ts";
import { serverBusy, serverLimits } from "./limits.ts";

/** PeerAnswer is a peer message that answers a call (it carries the call's requestId). */
export type PeerAnswer = Extract<PeerMessage, { type: "node-info-result" | "forward-result" }>;

interface PeerCall {
  readonly deadlineMs: number;
  readonly resolve: (answer: PeerAnswer | undefined) => void;
}

/**
 * PeerCalls asks other servers something and waits for the answer, bounded by a deadline: a call
 * resolves with the answer, or with undefined once `expire` sees its deadline pass (the peer is
 * down, cut off, or too slow). Answers that come after that are dropped.
 */
export class PeerCalls {
  private readonly calls = new Map<number, PeerCall>();
  private nextCallId = 1;

  constructor(
    private readonly send: (url: string, message: PeerMessage) => void,
    private readonly url = "this server",
  ) {}

  get size(): number {
    return this.calls.size;
  }

  /**
   * call sends `make(requestId)` to `url` and resolves with the answer or undefined; with
   * peerCallsMax calls already waiting it rejects with ServerBusy.
   */
  call(
    url: string,
    make: (requestId: number) => PeerMessage,
    deadlineMs: number,
  ): Promise<PeerAnswer | undefined> {
    if (this.calls.size >= serverLimits.peerCallsMax)
      return Promise.reject(
        serverBusy(this.url, "too many calls to other servers wait for answers", "peerCallsMax"),
      );
    const requestId = this.nextCallId++;
    return new Promise((resolve) => {
      this.calls.set(requestId, { deadlineMs, resolve });
      this.send(url, make(requestId));
    });
  }

  /** answer settles the call an answer is for; one nobody waits for any more is dropped. */
  answer(message: PeerAnswer): void {
    const call = this.calls.get(message.requestId);
    if (!call) return;
    this.calls.delete(message.requestId);
    call.resolve(message);
  }

  /** expire gives up on every call whose deadline passed. */
  expire(nowMs: number): void {
    for (const [id, call] of this.calls) {
      if (nowMs >= call.deadlineMs) {
        this.calls.delete(id);
        call.resolve(undefined);
      }
    }
  }
}
