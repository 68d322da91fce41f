/**
 * The chapter's claims, numbered: what "Setting up a RavenDB Cluster" says the system does, in
 * our words, each with the book section that explains it, the playground step that shows it live
 * and the scenario test (test/scenarios/) that proves it. The chapter never numbers them; this list
 * follows its sections in order and is the numbering the issues and the teacher's page use.
 * test/book/claims.test.ts checks that every link resolves.
 */

/** ClaimPlayground is one step of a chapter playground (playground/scenarios.ts), by its title. */
export interface ClaimPlayground {
  readonly scenario: string;
  readonly step: string;
}

export interface Claim {
  readonly n: number;
  /** The claim, in our words. */
  readonly claim: string;
  /** The chapter's section it comes from (the chapter's own heading). */
  readonly chapter: string;
  /** The book's section: a page under book/src/content/docs and a heading's anchor on it. */
  readonly book: { readonly page: string; readonly anchor: string };
  /** The live step; null while the playground cannot show it yet (`pending` says why). */
  readonly playground: ClaimPlayground | null;
  readonly pending?: string;
  /** The scenario test, by its full name ("claim N: …"). */
  readonly test: string;
}

/** The chapter page that embeds each scenario's playground, where its steps are played. */
export const scenarioPages: Readonly<Record<string, string>> = {
  "first-cluster": "chapter/first-cluster",
  "kicking-the-tires": "chapter/kicking-the-tires",
  expanding: "chapter/expanding",
  "client-failover": "chapter/client-failover",
  "write-assurance": "chapter/write-assurance",
  replication: "chapter/replication",
  "transaction-atomicity": "chapter/transaction-atomicity",
  conflicts: "chapter/conflicts",
  supervisor: "chapter/supervisor",
};

/** testCommand runs one claim's scenario test. */
export const testCommand = (n: number): string => `npx vitest run test/scenarios -t "claim ${n}:"`;

const clientPanel =
  "needs the chapter pages' client panel (issue 14), which brings clients, their modes and their cut-off control to the playground";

export const claims: readonly Claim[] = [
  {
    n: 1,
    claim:
      "A database group keeps a complete copy on each server that hosts it, and every copy serves reads and writes for the whole database.",
    chapter: "An overview of a RavenDB Cluster",
    book: { page: "chapter/database-group", anchor: "what-a-group-is-for" },
    playground: { scenario: "expanding", step: "Write tines/1 to Pitchfork" },
    test: "claim 1: every instance of a group holds the whole database, and each one takes reads and writes for all of it",
  },
  {
    n: 2,
    claim:
      "There are two layers: cluster-wide decisions such as creating a database go through Rachis, a leader and a log; storing a document involves only the database's own copies.",
    chapter: "An overview of a RavenDB Cluster",
    book: { page: "chapter/two-layers", anchor: "cp-and-ap-at-the-same-time" },
    playground: { scenario: "first-cluster", step: "Write users/1 and users/2 to Spade on A" },
    test: "claim 2: creating a database is a Rachis command applied by every server; writing a document does not touch Rachis",
  },
  {
    n: 3,
    claim:
      "Without a majority of its servers the cluster layer decides nothing: creating a database or changing a group fails (it is CP).",
    chapter: "An overview of a RavenDB Cluster",
    book: { page: "chapter/kicking-the-tires", anchor: "what-a-leaderless-cluster-cannot-do" },
    playground: { scenario: "kicking-the-tires", step: "Try to create Pitchfork on B" },
    test: "claim 3: without a majority the cluster layer decides nothing — cluster-wide operations fail with an error that names the majority",
  },
  {
    n: 4,
    claim:
      "The database layer needs no majority: while one copy of a database runs, it takes reads and writes, even with most servers down (it is AP).",
    chapter: "An overview of a RavenDB Cluster",
    book: { page: "chapter/two-layers", anchor: "the-database-layer-equals-that-replicate" },
    playground: { scenario: "kicking-the-tires", step: "Write users/3 to Spade on B" },
    test: "claim 4: the database layer needs no majority — with three of five servers down, Spade's surviving instance takes reads and writes",
  },
  {
    n: 5,
    claim:
      "One server is already a cluster: a fresh server shows the tag ?, and its first cluster-wide operation makes it node A, leader of a cluster of one.",
    chapter: "Your first RavenDB Cluster",
    book: { page: "chapter/first-cluster", anchor: "one-server-one-database" },
    playground: { scenario: "first-cluster", step: "Create Spade on http://127.0.0.1:8080" },
    test: "claim 5: a single server is a cluster — Spade on a fresh server makes it node A, leader of one; the other server still shows ?",
  },
  {
    n: 6,
    claim:
      "A server added by URL gets the next tag (B) from the leader; it then knows every database, and shows Spade as Offline because it hosts no copy.",
    chapter: "Your first RavenDB Cluster",
    book: { page: "chapter/first-cluster", anchor: "adding-the-second-server" },
    playground: { scenario: "first-cluster", step: "On A: Add node http://127.0.0.2:8080" },
    test: "claim 6: adding 127.0.0.2 by URL makes it node B, chosen by the leader; B sees Spade but Offline, since Spade is not on B",
  },
  {
    n: 7,
    claim:
      "Adding B to Spade's group copies the existing documents to it by replication, from a mentor; B becomes a full member once it has caught up.",
    chapter: "Your first RavenDB Cluster",
    book: { page: "chapter/first-cluster", anchor: "growing-the-database-group" },
    playground: { scenario: "first-cluster", step: "Manage group → Add node to group: B" },
    test: "claim 7: adding B to Spade's group makes it a promotable fed by its mentor A; users/1 and users/2 arrive by replication and B becomes a member",
  },
  {
    n: 8,
    claim:
      "Two servers cannot lose either one: with A down nobody leads, yet B takes users/3, which reaches A once A is back; either server may lead afterwards.",
    chapter: "Kicking the tires of your RavenDB Cluster",
    book: { page: "chapter/kicking-the-tires", anchor: "a-comes-back" },
    playground: { scenario: "kicking-the-tires", step: "Restart node A" },
    test: "claim 8: two servers cannot lose either — with A down there is no leader, B still takes users/3, and users/3 reaches A when it returns",
  },
  {
    n: 9,
    claim:
      "Given only a replication factor, the cluster chooses where a database goes (Pitchfork on three of five servers); a database placed by hand stays where it was put, and every server sees the whole layout.",
    chapter: "Expanding your cluster",
    book: { page: "chapter/expanding", anchor: "pitchfork-let-the-cluster-choose" },
    playground: { scenario: "expanding", step: "New database Pitchfork, replication factor 3" },
    test: "claim 9: given only a factor of 3, the cluster places Pitchfork on three of five servers itself, and a document written there reaches all three",
  },
  {
    n: 10,
    claim:
      "Many databases spread over five servers leave no single point of failure: any one server can go; databases kept on two servers only are lost when exactly those two fail.",
    chapter: "Appropriate utilization of your cluster",
    book: { page: "chapter/expanding", anchor: "using-a-cluster-well" },
    playground: { scenario: "expanding", step: "Fill the garden shed: six more databases" },
    test: "claim 10: the garden shed — eight databases on five nodes, the book's factors; any one node can fail, and of all pairs only A and B together take databases down",
  },
  {
    n: 11,
    claim:
      "A client needs just one reachable server of the cluster to learn where its database lives; listing several covers servers that are down, and a cached topology covers a restart.",
    chapter: "Client interaction with a database group",
    book: { page: "chapter/client-failover", anchor: "a-store-that-lists-the-cluster" },
    playground: { scenario: "expanding", step: "Look at the cluster from D" },
    test: "claim 11: one reachable URL is enough for a client to learn where a database lives, even a server that does not host it",
  },
  {
    n: 12,
    claim:
      "Clients send their requests to the preferred node; when it fails they all move to the same next member, the cluster moves the failed node to the end, and it comes back last.",
    chapter: "Client interaction with a database group",
    book: { page: "chapter/client-failover", anchor: "preferred-node-and-alternates" },
    playground: { scenario: "client-failover", step: "Kill Spade's preferred node" },
    test: "claim 12: every client talks to the preferred node; when it dies they all fail over to the same next member, and the cluster moves the dead node to the end",
  },
  {
    n: 13,
    claim:
      "Each client fails over from its own view of the network, so a client cut off from some servers keeps working through the others; it reports an error only when no copy can be reached.",
    chapter: "The simplest failure mode (sidebar)",
    book: { page: "chapter/client-failover", anchor: "the-failures-that-are-not-simple" },
    playground: null,
    pending: clientPanel,
    test: "claim 13: each client fails over from its own view of the network, and an error comes only when no instance can be reached",
  },
  {
    n: 14,
    claim:
      "Write assurance makes a save wait for copies on other servers: it is slower, it fails with an error when the copies cannot be made, and the data stays written all the same.",
    chapter: "Write assurances for high value data",
    book: { page: "chapter/write-assurance", anchor: "the-price" },
    playground: { scenario: "write-assurance", step: "Save tasks/1 on A, waiting for 1 replica" },
    test: "claim 14: waiting for replicas slows a save by a round trip to the siblings, fails when none can answer, and the write stays",
  },
  {
    n: 15,
    claim:
      "Reads need not all go to the preferred node: clients can spread them over the group session by session, or send them to the server measured fastest.",
    chapter: "Load balancing and service level agreements",
    book: { page: "chapter/load-balancing", anchor: "three-ways-to-choose-a-server-for-reads" },
    playground: null,
    pending: clientPanel,
    test: "claim 15: reads can be spread — round robin gives each session the next member, fastest node measures and keeps the quickest",
  },
  {
    n: 16,
    claim:
      "Copies keep standing connections to each other, so in normal operation a write reaches the others after about two ping times.",
    chapter: "Replication of data in a database group",
    book: { page: "chapter/replication", anchor: "always-connected-always-asynchronous" },
    playground: {
      scenario: "replication",
      step: "Write tines/2 and tines/3 to the preferred node",
    },
    test: "claim 16: on an idle group a write reaches the sibling within about two ping times",
  },
  {
    n: 17,
    claim:
      "A failed server is demoted; when it returns it must catch up before the cluster lets it back in as a full member, at the end of the list.",
    chapter: "Replication of data in a database group",
    book: { page: "chapter/replication", anchor: "after-a-failure" },
    playground: { scenario: "supervisor", step: "Restart it" },
    test: "claim 17: a silent preferred node is rotated to the end, moved to rehab, and comes back last after catching up",
  },
  {
    n: 18,
    claim:
      "Everything in a database replicates: documents, deletes (as tombstones), attachments and revisions.",
    chapter: "Replication of data in a database group",
    book: { page: "chapter/replication", anchor: "what-replicates" },
    playground: null,
    pending:
      "needs attachments and revision history in the playground's documents panel, which issue 14 is rebuilding",
    test: "claim 18: everything replicates — documents, deletes as tombstones, attachments with their document, and revisions",
  },
  {
    n: 19,
    claim:
      "A document changed several times before replication ran reaches the other copies as its latest version only — unless revisions are on, which carry every version.",
    chapter: "Replication of data in a database group",
    book: { page: "chapter/replication", anchor: "intermediate-versions-are-skipped" },
    playground: { scenario: "replication", step: "Heal, and open tines/1 on E" },
    test: "claim 19: edits made faster than replication reach a sibling as the latest version only, unless revisions are on",
  },
  {
    n: 20,
    claim:
      "All copies end with the same revisions of a document, but not necessarily in the same order.",
    chapter: "Undefined order in a distributed environment (sidebar)",
    book: { page: "chapter/replication", anchor: "the-same-history-in-a-different-order" },
    playground: {
      scenario: "replication",
      step: "Heal, and compare tines/1's revisions on C and D",
    },
    test: "claim 20: every node ends with the same revisions of a document, but not necessarily in the same order",
  },
  {
    n: 21,
    claim:
      "A transaction travels to the other copies as one batch that is never split, whatever the batch limits.",
    chapter: "Transaction atomicity and replication",
    book: {
      page: "chapter/transaction-atomicity",
      anchor: "the-guarantee-a-transaction-is-never-split",
    },
    playground: { scenario: "transaction-atomicity", step: "Heal the network and watch B" },
    test: "claim 21: a transaction replicates as one indivisible batch, even when batches are as small as they can be",
  },
  {
    n: 22,
    claim:
      "Yet a reader on another copy can see half a transaction: a document changed again by a later transaction travels with that later one (Listings 6.3 and 6.4).",
    chapter: "Transaction atomicity and replication",
    book: { page: "chapter/transaction-atomicity", anchor: "the-catch-current-state-only" },
    playground: { scenario: "transaction-atomicity", step: "Listing 6.4 on A: you pay $3 of tax" },
    test: "claim 22: without revisions, a reader on B can see the transfer half applied: the money is briefly missing (Listings 6.3 and 6.4)",
  },
  {
    n: 23,
    claim:
      "With revisions on, each batch carries the revisions of its transaction and the receiver brings its documents up to them, so no reader sees half a transaction.",
    chapter: "Transaction atomicity and replication",
    book: { page: "chapter/transaction-atomicity", anchor: "two-ways-out" },
    playground: {
      scenario: "transaction-atomicity",
      step: "Heal the network and watch B (revisions on)",
    },
    test: "claim 23: with revisions on, a reader on B never sees half a transaction: the total stays 200",
  },
  {
    n: 24,
    claim:
      "Because clients fail over on their own, both sides of a partition can accept writes to the same document; the copies then hold a conflict, which by default resolves to the latest write.",
    chapter: "The simplest failure mode (sidebar); Conflicts",
    book: { page: "chapter/conflicts", anchor: "how-a-conflict-happens" },
    playground: { scenario: "conflicts", step: "Heal the network" },
    test: "claim 24: clients on both sides of a partition write users/1; when it heals the conflict resolves to the latest, on both nodes",
  },
];
