/**
 * Known-wrong solutions: for each exercise, solutions a student might plausibly hand in that miss
 * the lesson, each with the check it must fail and the words the checker must say. `npm test`
 * runs every one (test/exercises/wrong.test.ts) and so does Chromium (test/browser), next to the
 * reference solutions, so an exercise whose checks let a wrong solution through fails the build.
 * Each file imports "rookery" like a student's solution and can be checked on its own:
 * `npm run exercise -- check 5 --solution exercises/wrong/05-cut-instead-of-kill.ts`.
 */
import type { Solution } from "../types.ts";
import askAForTheTopology from "./01-ask-a-for-the-topology.ts";
import threeClusters from "./01-three-clusters.ts";
import stopAtPromotable from "./02-stop-at-promotable.ts";
import writeToB from "./02-write-to-b.ts";
import neverRestart from "./03-never-restart.ts";
import writeBeforeTheKill from "./03-write-before-the-kill.ts";
import killAnAlternate from "./04-kill-an-alternate.ts";
import newStoreOnB from "./04-new-store-on-b.ts";
import cutInsteadOfKill from "./05-cut-instead-of-kill.ts";
import moreReplicasThanSiblings from "./05-more-replicas-than-siblings.ts";
import readTheWriter from "./06-read-the-writer.ts";
import splitTransfer from "./06-split-transfer.ts";
import noPartition from "./07-no-partition.ts";
import onlyLatest from "./07-only-latest.ts";
import factorTwo from "./08-factor-two.ts";
import oneAtATime from "./08-one-at-a-time.ts";
import nothingWritten from "./09-nothing-written.ts";
import restartAfterRotation from "./09-restart-after-rotation.ts";
import leaderStillDecides from "./10-leader-still-decides.ts";
import twoDown from "./10-two-down.ts";
import anotherPartition from "./11-another-partition.ts";
import oldLeaderDecides from "./11-old-leader-decides.ts";

/** WrongSolution is one known-wrong solution and how it must fail. */
export interface WrongSolution {
  /** The file in exercises/wrong/. */
  readonly file: string;
  /** The exercise's id. */
  readonly exercise: string;
  /** The check that must fail… */
  readonly check: string;
  /** …with a detail that contains this text. */
  readonly detail: string;
  readonly run: Solution;
}

export const wrongSolutions: readonly WrongSolution[] = [
  {
    file: "01-ask-a-for-the-topology.ts",
    exercise: "bootstrap",
    check: "read-from-c",
    detail: "no cluster-topology request went to 127.0.0.3",
    run: askAForTheTopology,
  },
  {
    file: "01-three-clusters.ts",
    exercise: "bootstrap",
    check: "tags",
    detail: "the servers' tags are A, A, A; expected A, B, C",
    run: threeClusters,
  },
  {
    file: "02-stop-at-promotable.ts",
    exercise: "grow-group",
    check: "b-member",
    detail: "Spade's members are A; B is not one of them yet",
    run: stopAtPromotable,
  },
  {
    file: "02-write-to-b.ts",
    exercise: "grow-group",
    check: "documents-on-b",
    detail: "you wrote users/1 or users/2 to B yourself; let replication bring them",
    run: writeToB,
  },
  {
    file: "03-never-restart.ts",
    exercise: "leaderless-writes",
    check: "leader-back",
    detail: "A was never restarted",
    run: neverRestart,
  },
  {
    file: "03-write-before-the-kill.ts",
    exercise: "leaderless-writes",
    check: "write-without-leader",
    detail: "users/3 was written, but while there was a leader",
    run: writeBeforeTheKill,
  },
  {
    file: "04-kill-an-alternate.ts",
    exercise: "failover",
    check: "preferred-killed",
    detail: "you killed C, but not the node the store preferred at that moment",
    run: killAnAlternate,
  },
  {
    file: "04-new-store-on-b.ts",
    exercise: "failover",
    check: "failed-over",
    detail: "the store never had to fail over",
    run: newStoreOnB,
  },
  {
    file: "05-cut-instead-of-kill.ts",
    exercise: "write-assurance",
    check: "sibling-killed",
    detail: "B was cut off by the network, not killed",
    run: cutInsteadOfKill,
  },
  {
    file: "05-more-replicas-than-siblings.ts",
    exercise: "write-assurance",
    check: "replicas-possible",
    detail: "it waited for 2 replicas, but A has only 1 sibling(s) in Spade (B)",
    run: moreReplicasThanSiblings,
  },
  {
    file: "06-read-the-writer.ts",
    exercise: "partial-transaction",
    check: "partial-seen",
    detail: "every read after both listings was on A, the node that took the transfers",
    run: readTheWriter,
  },
  {
    file: "06-split-transfer.ts",
    exercise: "partial-transaction",
    check: "partial-seen",
    detail: "Listing 6.3 never ran as one transaction before revisions were on",
    run: splitTransfer,
  },
  {
    file: "07-no-partition.ts",
    exercise: "conflicts",
    check: "concurrent-users-2",
    detail: "users/2 was not written on two nodes during a partition",
    run: noPartition,
  },
  {
    file: "07-only-latest.ts",
    exercise: "conflicts",
    check: "conflict-kept",
    detail: 'Spade\'s conflict resolution was never set to "none"',
    run: onlyLatest,
  },
  {
    file: "08-factor-two.ts",
    exercise: "pitchfork",
    check: "any-two",
    detail: "losing C+D would take Pitchfork down",
    run: factorTwo,
  },
  {
    file: "08-one-at-a-time.ts",
    exercise: "pitchfork",
    check: "proven",
    detail: "no write with C+D, C+E, D+E down",
    run: oneAtATime,
  },
  {
    file: "09-nothing-written.ts",
    exercise: "supervisor",
    check: "write-while-away",
    detail: "nothing was written to Hoe while A was down",
    run: nothingWritten,
  },
  {
    file: "09-restart-after-rotation.ts",
    exercise: "supervisor",
    check: "rehab",
    detail: "A never went to rehab; keep it down longer",
    run: restartAfterRotation,
  },
  {
    file: "10-leader-still-decides.ts",
    exercise: "majority",
    check: "verify-createDatabase",
    detail: 'failed: NoLeader on E — you predicted "ok"',
    run: leaderStillDecides,
  },
  {
    file: "10-two-down.ts",
    exercise: "majority",
    check: "no-majority",
    detail: "at most 2 server(s) down at once",
    run: twoDown,
  },
  {
    file: "11-another-partition.ts",
    exercise: "partition",
    check: "given-partition",
    detail: "you cut {A, B, C} from {D, E}; the partition to predict is {A, B} | {C, D, E}",
    run: anotherPartition,
  },
  {
    file: "11-old-leader-decides.ts",
    exercise: "partition",
    check: "verify-createViaA",
    detail: 'failed: NoLeader on A — you predicted "ok"',
    run: oldLeaderDecides,
  },
];
