import { compareNodeTags } from "../core/index.ts";
import type { NodeTag } from "../core/index.ts";
import type { DatabaseRecord, ExternalReplicationTask } from "./model.ts";
import { groupNodes } from "./queries.ts";

/** externalReplicationsOf lists a database's external replication tasks (none when absent). */
export function externalReplicationsOf(record: DatabaseRecord): readonly ExternalReplicationTask[] {
  return record.externalReplications ?? [];
}

/** findExternalReplication returns the task with `taskId`, if the database has one. */
export function findExternalReplication(
  record: DatabaseRecord,
  taskId: number,
): ExternalReplicationTask | undefined {
  return externalReplicationsOf(record).find((task) => task.taskId === taskId);
}

/** defaultTaskName names a task after its destination when the user gave no name. */
export function defaultTaskName(destinationDatabase: string, destinationUrls: readonly string[]) {
  return `Replication to ${destinationDatabase} at ${destinationUrls[0] ?? "?"}`;
}

/** TaskIdentity is what a task's place in the group is hashed from. */
export interface TaskIdentity {
  readonly taskId: number;
  readonly name: string;
  readonly destinationDatabase: string;
  readonly mentorNode: NodeTag | null;
}

/**
 * responsibleNodeFor chooses the node of the group that runs a task, as RavenDB's
 * DatabaseTopology.WhoseTaskIsIt does: the task's mentor when it is a member; otherwise a jump
 * consistent hash of the task's key over every node of the group in tag order, hashing again
 * while it lands on a node that is not a member (a promotable or a rehab cannot run a task).
 * Because the hash covers the whole group, a node that leaves the members takes only its own
 * tasks away, and gets them back when it is a member again. Pure: every server computes the same
 * node from the same record. Null only when the group has no member.
 */
export function responsibleNodeFor(record: DatabaseRecord, task: TaskIdentity): NodeTag | null {
  const { members } = record.topology;
  if (task.mentorNode !== null && members.includes(task.mentorNode)) return task.mentorNode;
  const nodes = groupNodes(record.topology).sort(compareNodeTags);
  let key = taskKey(record.name, task);
  while (nodes.length > 0) {
    const index = jumpConsistentHash(key, nodes.length);
    const node = nodes[index]!;
    if (members.includes(node)) return node;
    nodes.splice(index, 1);
    key = mix64(key);
  }
  return null;
}

const mask64 = (1n << 64n) - 1n;

/**
 * taskKey is a 64-bit FNV-1a hash of what identifies a task: the database, its id and its
 * destination database. RavenDB hashes its task's name and connection string with XXHash64; any
 * fixed hash does, as long as every server uses the same one.
 */
export function taskKey(database: string, task: TaskIdentity): bigint {
  const text = `${database.toLowerCase()}/${task.taskId}/${task.destinationDatabase.toLowerCase()}`;
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & mask64;
  }
  return hash;
}

/**
 * jumpConsistentHash maps a 64-bit key to one of `buckets` buckets (Lamping and Veach, 2014):
 * growing the bucket count moves a key only to the new bucket, which is why RavenDB uses it to
 * spread tasks over a group.
 */
export function jumpConsistentHash(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  let k = key & mask64;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & mask64;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** mix64 scrambles a key for the next try (MurmurHash3's finaliser). */
export function mix64(key: bigint): bigint {
  let k = key & mask64;
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & mask64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & mask64;
  k ^= k >> 33n;
  return k;
}
