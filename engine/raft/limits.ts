import { assert } from "../core/index.ts";

/**
 * raftLimits bound every queue and message of Rachis; the unit is the last word of each name.
 * A RawNode takes overrides in its config (tests shrink them), checked by assertRaftLimits.
 */
export const raftLimits = {
  /** Entries carried by one append message. */
  appendEntriesMax: 64,
  /** Payload bytes carried by one append message (at least one entry is always sent). */
  appendBytesMax: 256 * 1024,
  /** Append messages a leader keeps in flight to one follower before waiting for answers. */
  inflightAppendsMax: 8,
  /** Entries the leader accepts before they commit; more proposals are refused. */
  uncommittedEntriesMax: 4096,
  /** Bytes of one proposed command. */
  commandBytesMax: 1024 * 1024,
  /** Bytes of a state-machine snapshot sent in one message. */
  snapshotBytesMax: 16 * 1024 * 1024,
  /** Messages one node may queue for sending between two Ready calls. */
  outboxMessagesMax: 10_000,
} as const;

export type RaftLimits = { -readonly [K in keyof typeof raftLimits]: number };

/** Timing of Rachis in ticks; the runtime decides how long a tick is (tickMs). */
export const raftTiming = {
  /** Ticks between heartbeats from a leader. */
  heartbeatTicks: 10,
  /** Minimum election timeout in ticks; each node draws its timeout from [min, 2 × min). */
  electionTicks: 30,
} as const;

export type RaftTiming = { -readonly [K in keyof typeof raftTiming]: number };

/** assertRaftLimits checks the relations between limits that Rachis relies on. */
export function assertRaftLimits(limits: RaftLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    assert(
      Number.isSafeInteger(value) && value > 0,
      () => `${name} must be a positive integer, got ${value}`,
    );
  }
  // A leader must accept enough proposals to fill one follower's pipeline.
  const pipelineEntries = limits.appendEntriesMax * limits.inflightAppendsMax;
  assert(
    limits.uncommittedEntriesMax >= pipelineEntries,
    () =>
      `uncommittedEntriesMax (${limits.uncommittedEntriesMax}) must cover a full pipeline: appendEntriesMax × inflightAppendsMax = ${pipelineEntries}`,
  );
  // A state machine that holds one command of the largest size must fit in a snapshot.
  assert(
    limits.snapshotBytesMax >= limits.commandBytesMax,
    () =>
      `snapshotBytesMax (${limits.snapshotBytesMax}) must hold at least one command of commandBytesMax (${limits.commandBytesMax})`,
  );
}

/** assertRaftTiming checks the relations between Rachis's timeouts. */
export function assertRaftTiming(timing: RaftTiming): void {
  assert(
    Number.isSafeInteger(timing.heartbeatTicks) && timing.heartbeatTicks > 0,
    () => `heartbeatTicks must be a positive integer, got ${timing.heartbeatTicks}`,
  );
  // At least two heartbeats per election timeout: a follower's answer to one reaches the leader
  // before check quorum counts the answers, and one lost heartbeat does not start an election.
  assert(
    Number.isSafeInteger(timing.electionTicks) && timing.electionTicks >= 2 * timing.heartbeatTicks,
    () =>
      `electionTicks (${timing.electionTicks}) must be at least twice heartbeatTicks (${timing.heartbeatTicks})`,
  );
}

assertRaftLimits(raftLimits);
assertRaftTiming(raftTiming);
