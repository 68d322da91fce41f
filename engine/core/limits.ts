/**
 * Named limits. Every queue and message in the engine is bounded by one of these; the unit is the
 * last word of each name. Components take a `limits` object so tests can shrink them (for example
 * one transaction per replication batch, as in the chapter's Listing 6.3/6.4 discussion).
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

/** Milliseconds in one tick under the default runtimes (so an election takes 300–600 ms). */
export const tickMsDefault = 10;
