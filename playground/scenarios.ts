/**
 * Each chapter's playground: the state its section starts from (setup, replayed at once) and the
 * chapter's walkthrough one action at a time (steps, replayed by Next step), each with the
 * sentence that explains it. The steps of the first three are cli/commands/walkthrough.ts, split.
 * Actions are data, so tests can read them and the session can replay them on any runtime.
 */

/** Server URLs, as in the chapter: server n listens on 127.0.0.n:8080. */
export const url = (n: number): string => `http://127.0.0.${n}:8080`;

/** Condition is what a step waits for before its explanation is true. */
export type Condition =
  | { readonly kind: "tag"; readonly url: string; readonly tag: string }
  | { readonly kind: "leader" }
  | { readonly kind: "no-leader-on"; readonly url: string }
  | { readonly kind: "all-joined" }
  | {
      readonly kind: "documents";
      readonly tag: string;
      readonly database: string;
      readonly ids: readonly string[];
    }
  | { readonly kind: "members"; readonly database: string; readonly count: number }
  | { readonly kind: "member-not-first"; readonly database: string; readonly tag: string }
  | { readonly kind: "in-rehab"; readonly database: string; readonly tag: string }
  | { readonly kind: "known-on"; readonly url: string; readonly database: string };

/** Action is one thing the reader (or Next step) does. */
export type Action =
  | { readonly kind: "select"; readonly url: string }
  | {
      readonly kind: "create-database";
      readonly on: string;
      readonly name: string;
      readonly replicationFactor?: number;
      readonly expectFailure?: boolean;
    }
  | {
      readonly kind: "put";
      readonly on: string;
      readonly database: string;
      readonly documents: readonly {
        readonly id: string;
        readonly body: Record<string, unknown>;
      }[];
      readonly waitForReplicas?: number;
    }
  | { readonly kind: "add-node"; readonly on: string; readonly url: string }
  | { readonly kind: "start-server" }
  | {
      readonly kind: "add-database-node";
      readonly on: string;
      readonly database: string;
      readonly tag: string;
    }
  | { readonly kind: "kill"; readonly url: string }
  | { readonly kind: "restart"; readonly url: string }
  | { readonly kind: "partition"; readonly a: readonly string[]; readonly b: readonly string[] }
  | { readonly kind: "heal" }
  | {
      readonly kind: "set-conflict-resolution";
      readonly on: string;
      readonly database: string;
      readonly resolution: "latest" | "none";
    }
  | {
      readonly kind: "set-revisions";
      readonly on: string;
      readonly database: string;
      readonly collection: string;
      readonly enabled: boolean;
    }
  /** Slow the link between two servers (both ways), as a fraction of the shortest election timeout. */
  | {
      readonly kind: "slow-link";
      readonly a: string;
      readonly b: string;
      readonly electionFraction: number;
    }
  | { readonly kind: "wait"; readonly until: Condition };

/** Step is one press of Next step: what it is, what it does, and what to notice. */
export interface Step {
  readonly title: string;
  readonly actions: readonly Action[];
  /** What the step leaves true; the step is done once this holds. */
  readonly until?: Condition;
  readonly explanation: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Fresh servers started before the setup. */
  readonly servers: number;
  /** The section's starting state, replayed at once on first open and on Reset. */
  readonly setup: readonly Action[];
  readonly intro: string;
  readonly steps: readonly Step[];
  /** The database the documents panel and the graph show first. */
  readonly database?: string;
  /** The server the reader starts "on". */
  readonly startOn?: string;
  /** Replication limits for the section's servers (batchItemsMax 1: one transaction per batch). */
  readonly replicationLimits?: { readonly batchItemsMax?: number };
  /** A sum the documents panel keeps in view, e.g. the total of the accounts. */
  readonly watchSum?: { readonly label: string; readonly database: string; readonly field: string };
}

const users12 = [
  { id: "users/1", body: { name: "Oren", lastName: "Eini" } },
  { id: "users/2", body: { name: "Ayende", lastName: "Rahien" } },
];

// --- the chapter's walkthrough, in three parts --------------------------------------------------

const firstClusterSteps: readonly Step[] = [
  {
    title: "Create Spade on http://127.0.0.1:8080",
    actions: [
      { kind: "select", url: url(1) },
      { kind: "create-database", on: url(1), name: "Spade" },
    ],
    until: { kind: "tag", url: url(1), tag: "A" },
    explanation:
      "Creating a database is a cluster-wide operation, so the fresh server first bootstraps a cluster of one: it becomes node A and the leader of itself.",
  },
  {
    title: "Write users/1 and users/2 to Spade on A",
    actions: [{ kind: "put", on: url(1), database: "Spade", documents: users12 }],
    explanation:
      "The two users exist only on A, because Spade lives only on A. They are there so we can watch them move.",
  },
  {
    title: "Look at http://127.0.0.2:8080",
    actions: [{ kind: "select", url: url(2) }],
    explanation:
      "The second server has no databases and shows the tag ? — it has never joined or formed a cluster.",
  },
  {
    title: "On A: Add node http://127.0.0.2:8080",
    actions: [
      { kind: "select", url: url(1) },
      { kind: "add-node", on: url(1), url: url(2) },
    ],
    until: { kind: "tag", url: url(2), tag: "B" },
    explanation:
      "The leader commits the new member through Rachis. The second server joins and is named node B.",
  },
  {
    title: "Look at Spade from B",
    actions: [
      { kind: "select", url: url(2) },
      { kind: "wait", until: { kind: "known-on", url: url(2), database: "Spade" } },
    ],
    explanation:
      "B knows the whole cluster's databases, but Spade is Offline here: its group is only [A].",
  },
  {
    title: "Manage group → Add node to group: B",
    actions: [
      { kind: "add-database-node", on: url(1), database: "Spade", tag: "B" },
      {
        kind: "wait",
        until: { kind: "documents", tag: "B", database: "Spade", ids: ["users/1", "users/2"] },
      },
    ],
    until: { kind: "members", database: "Spade", count: 2 },
    explanation:
      "B joins Spade's group as a promotable, A sends it users/1 and users/2, and once B has caught up it becomes a member: Spade is Online on B.",
  },
];

const kickingSteps: readonly Step[] = [
  {
    title: "Kill node A",
    actions: [
      { kind: "kill", url: url(1) },
      { kind: "select", url: url(2) },
    ],
    until: { kind: "no-leader-on", url: url(2) },
    explanation:
      "B stops hearing from A and starts elections it cannot win: it needs two votes out of two and only has its own. There is no leader.",
  },
  {
    title: "Try to create Pitchfork on B",
    actions: [{ kind: "create-database", on: url(2), name: "Pitchfork", expectFailure: true }],
    explanation:
      "Without a leader the cluster cannot decide anything: the cluster-wide operation fails after its timeout.",
  },
  {
    title: "Write users/3 to Spade on B",
    actions: [
      {
        kind: "put",
        on: url(2),
        database: "Spade",
        documents: [{ id: "users/3", body: { name: "Written on B without a leader" } }],
      },
    ],
    explanation:
      "The database layer never asks the cluster for permission: B stores users/3 and remembers that A has not received it yet.",
  },
  {
    title: "Restart node A",
    actions: [{ kind: "restart", url: url(1) }],
    until: { kind: "documents", tag: "A", database: "Spade", ids: ["users/3"] },
    explanation:
      "A comes back with what it had written, the two elect a leader (either may win), and B sends A the users/3 it missed.",
  },
];

const expandingSteps: readonly Step[] = [
  ...[3, 4, 5].map((n, i): Step => ({
    title: `On A: Add node ${url(n)}`,
    actions: [
      { kind: "select", url: url(1) },
      { kind: "add-node", on: url(1), url: url(n) },
    ],
    until: { kind: "tag", url: url(n), tag: "CDE"[i]! },
    explanation: `Each addition is its own Rachis command; the new server becomes node ${"CDE"[i]!}.${n === 5 ? " Five voters: the cluster now survives any two servers down." : ""}`,
  })),
  {
    title: "Look at the cluster from D",
    actions: [
      { kind: "select", url: url(4) },
      { kind: "wait", until: { kind: "known-on", url: url(4), database: "Spade" } },
    ],
    explanation:
      "Every server sees the whole topology. Spade is Offline on D: databases stay where they were put.",
  },
  {
    title: "New database Pitchfork, replication factor 3",
    actions: [{ kind: "create-database", on: url(4), name: "Pitchfork", replicationFactor: 3 }],
    until: { kind: "members", database: "Pitchfork", count: 3 },
    explanation: "Nobody said where, so the cluster places Pitchfork on three servers itself.",
  },
  {
    title: "Write tines/1 to Pitchfork",
    actions: [
      {
        kind: "put",
        on: "preferred:Pitchfork",
        database: "Pitchfork",
        documents: [{ id: "tines/1", body: { tines: 3 } }],
      },
    ],
    explanation:
      "The document goes to Pitchfork's preferred node and replicates to the other two; watch the batches in the replication graph.",
  },
];

const accounts = (you: number, me: number, tax: number) => [
  { id: "accounts/1234-A", body: { owner: "you", amount: you } },
  { id: "accounts/4321-C", body: { owner: "me", amount: me } },
  { id: "accounts/48879-B", body: { owner: "tax office", amount: tax } },
];

/** The two transfers on A while B cannot hear, then the link back, slowed so batches can be watched. */
function transfers(round: string): Step[] {
  return [
    {
      title: `Cut the network between A and B${round}`,
      actions: [
        { kind: "select", url: url(1) },
        { kind: "partition", a: [url(1)], b: [url(2)] },
      ],
      explanation:
        "Both transfers will commit on A before B hears of either, so replication must carry them afterwards.",
    },
    {
      title: `Listing 6.3 on A: I send you $10${round}`,
      actions: [
        { kind: "put", on: url(1), database: "Bank", documents: accounts(110, 90, 0).slice(0, 2) },
      ],
      explanation:
        "One transaction changes your account ($110) and mine ($90). On A the total stays $200.",
    },
    {
      title: `Listing 6.4 on A: you pay $3 of tax${round}`,
      actions: [
        {
          kind: "put",
          on: url(1),
          database: "Bank",
          documents: [accounts(107, 90, 3)[0]!, accounts(107, 90, 3)[2]!],
        },
      ],
      explanation:
        "A second transaction changes your account again ($107) and the tax office's ($3). Your account's current version now belongs to this transaction.",
    },
    {
      title: `Heal the network and watch B${round}`,
      actions: [{ kind: "select", url: url(2) }, { kind: "heal" }],
      explanation: round
        ? "With revisions on, the first batch also carries the $110 revision of your account: B goes to 110 / 90 / 0 and then 107 / 90 / 3. Its total never leaves $200."
        : "One transaction per batch, on a slowed link. The first batch carries only my account — yours is no longer current in it — so B shows 100 / 90 / 0: a total of $190 until the second batch arrives. Watch the total and the timeline.",
    },
  ];
}

/** asSetup flattens steps into the actions that rebuild their end state, each waited for. */
function asSetup(steps: readonly Step[]): Action[] {
  return steps.flatMap((step) => [
    ...step.actions.filter(
      (action) =>
        action.kind !== "select" && !(action.kind === "create-database" && action.expectFailure),
    ),
    ...(step.until ? [{ kind: "wait", until: step.until } as const] : []),
  ]);
}

/** Spade on A and B (the end of "Your first cluster"). */
const twoNodeSpade = asSetup(firstClusterSteps);

/** Five nodes, Spade on A and B, Pitchfork on three (the end of "Expanding"). */
const fiveNodes: Action[] = [
  ...twoNodeSpade,
  ...[3, 4, 5].flatMap((n, i): Action[] => [
    { kind: "add-node", on: url(1), url: url(n) },
    { kind: "wait", until: { kind: "tag", url: url(n), tag: "CDE"[i]! } },
  ]),
  { kind: "create-database", on: url(1), name: "Pitchfork", replicationFactor: 3 },
  { kind: "wait", until: { kind: "members", database: "Pitchfork", count: 3 } },
];

export const scenarios: Readonly<Record<string, Scenario>> = {
  "first-cluster": {
    id: "first-cluster",
    title: "Your first cluster",
    servers: 2,
    setup: [],
    intro:
      "Two fresh servers, both showing ?. Press Next step to replay the chapter, or use the panels yourself.",
    steps: firstClusterSteps,
    database: "Spade",
  },
  "kicking-the-tires": {
    id: "kicking-the-tires",
    title: "Kicking the tires",
    servers: 2,
    setup: twoNodeSpade,
    intro: "Spade lives on A and B, with users/1 and users/2 on both. Next step kills A.",
    steps: kickingSteps,
    database: "Spade",
  },
  expanding: {
    id: "expanding",
    title: "Expanding to five nodes",
    servers: 5,
    setup: twoNodeSpade,
    intro:
      "A and B from the previous pages, and three fresh servers started at 127.0.0.3–5 that still show ?.",
    steps: expandingSteps,
    database: "Spade",
  },
  "client-failover": {
    id: "client-failover",
    title: "Failover",
    servers: 5,
    setup: fiveNodes,
    intro:
      "Five nodes; Spade on A and B. Kill Spade's preferred node and watch the cluster move clients away from it.",
    database: "Spade",
    steps: [
      {
        title: "Kill Spade's preferred node",
        actions: [{ kind: "kill", url: "preferred:Spade" }],
        until: { kind: "member-not-first", database: "Spade", tag: "killed" },
        explanation:
          "Clients fail over to the next member at once; the supervisor then makes it official by rotating the dead node to the end of the members list.",
      },
      {
        title: "Write users/10 to the new preferred node",
        actions: [
          {
            kind: "put",
            on: "preferred:Spade",
            database: "Spade",
            documents: [{ id: "users/10", body: { name: "Written after failover" } }],
          },
        ],
        explanation:
          "The surviving instance accepts the write on its own; the dead one will get it later.",
      },
      {
        title: "Restart the killed node",
        actions: [{ kind: "restart", url: "killed" }],
        until: { kind: "members", database: "Spade", count: 2 },
        explanation:
          "It comes back, catches up from its sibling, and rejoins at the end of the members list — not in its old place.",
      },
    ],
  },
  "write-assurance": {
    id: "write-assurance",
    title: "Write assurance",
    servers: 2,
    setup: twoNodeSpade,
    intro: "Spade on A and B. Kill B, then save with “wait for one replica” on A.",
    database: "Spade",
    steps: [
      {
        title: "Kill node B",
        actions: [
          { kind: "kill", url: url(2) },
          { kind: "select", url: url(1) },
        ],
        explanation: "A is alone with Spade now.",
      },
      {
        title: "Save tasks/1 on A, waiting for 1 replica",
        actions: [
          {
            kind: "put",
            on: url(1),
            database: "Spade",
            documents: [{ id: "tasks/1", body: { title: "Buy a new rake" } }],
            waitForReplicas: 1,
          },
        ],
        explanation:
          "A commits tasks/1, then waits for B's acknowledgement, which cannot come: the save reports an error, but tasks/1 is on A.",
      },
      {
        title: "Restart node B",
        actions: [{ kind: "restart", url: url(2) }],
        until: { kind: "documents", tag: "B", database: "Spade", ids: ["tasks/1"] },
        explanation:
          "Ordinary replication delivers tasks/1 to B: the error meant “not confirmed in time”, never “not written”.",
      },
    ],
  },
  replication: {
    id: "replication",
    title: "Replication",
    servers: 5,
    setup: fiveNodes,
    intro:
      "Pitchfork lives on three of the five nodes. Watch its connections while one instance goes away and comes back.",
    database: "Pitchfork",
    steps: [
      {
        title: "Kill Pitchfork's last member",
        actions: [{ kind: "kill", url: "last:Pitchfork" }],
        until: { kind: "in-rehab", database: "Pitchfork", tag: "killed" },
        explanation: "Its connections go dark; after a while the supervisor moves it to rehab.",
      },
      {
        title: "Write tines/2 and tines/3 to the preferred node",
        actions: [
          {
            kind: "put",
            on: "preferred:Pitchfork",
            database: "Pitchfork",
            documents: [
              { id: "tines/2", body: { tines: 4 } },
              { id: "tines/3", body: { tines: 2 } },
            ],
          },
        ],
        explanation: "The two live instances replicate to each other; the dead one falls behind.",
      },
      {
        title: "Restart it",
        actions: [{ kind: "restart", url: "killed" }],
        until: { kind: "members", database: "Pitchfork", count: 3 },
        explanation:
          "A rehab rejoins the mesh so it can catch up; once it has everything, the supervisor promotes it back to member.",
      },
    ],
  },
  "transaction-atomicity": {
    id: "transaction-atomicity",
    title: "Transaction atomicity",
    servers: 2,
    replicationLimits: { batchItemsMax: 1 },
    watchSum: { label: "Total of the accounts", database: "Bank", field: "amount" },
    setup: [
      { kind: "create-database", on: url(1), name: "Bank" },
      { kind: "wait", until: { kind: "tag", url: url(1), tag: "A" } },
      { kind: "put", on: url(1), database: "Bank", documents: accounts(100, 100, 0) },
      { kind: "add-node", on: url(1), url: url(2) },
      { kind: "wait", until: { kind: "tag", url: url(2), tag: "B" } },
      { kind: "add-database-node", on: url(1), database: "Bank", tag: "B" },
      { kind: "wait", until: { kind: "members", database: "Bank", count: 2 } },
      {
        kind: "wait",
        until: { kind: "documents", tag: "B", database: "Bank", ids: ["accounts/48879-B"] },
      },
      // The A–B link is slowed so each replication batch lasts long enough to see what B holds in
      // between; a round trip stays below the shortest election timeout, so Rachis keeps its leader.
      { kind: "slow-link", a: url(1), b: url(2), electionFraction: 0.3 },
    ],
    intro:
      "Bank on A and B: you $100, me $100, the tax office $0. Replication sends one transaction per batch, and the A–B link is slowed so you can watch each batch land.",
    database: "Bank",
    steps: [
      ...transfers(""),
      {
        title: "Turn revisions on for Accounts, and reset the balances",
        actions: [
          {
            kind: "set-revisions",
            on: url(1),
            database: "Bank",
            collection: "Accounts",
            enabled: true,
          },
          { kind: "put", on: url(1), database: "Bank", documents: accounts(100, 100, 0) },
          {
            kind: "wait",
            until: { kind: "documents", tag: "B", database: "Bank", ids: ["accounts/48879-B"] },
          },
        ],
        explanation:
          "A cluster-wide change through Rachis: from now on every change to an account also writes a revision in the same transaction.",
      },
      ...transfers(" (revisions on)"),
    ],
  },
  conflicts: {
    id: "conflicts",
    title: "Conflicts",
    servers: 2,
    setup: [
      ...twoNodeSpade,
      { kind: "set-conflict-resolution", on: url(1), database: "Spade", resolution: "latest" },
    ],
    intro: "Spade on A and B with users/1. Cut the network, change users/1 on both sides, heal.",
    database: "Spade",
    steps: [
      {
        title: "Cut the network between A and B",
        actions: [{ kind: "partition", a: [url(1)], b: [url(2)] }],
        explanation: "Each side keeps accepting writes; neither hears from the other.",
      },
      {
        title: "On A: change users/1's email",
        actions: [
          { kind: "select", url: url(1) },
          {
            kind: "put",
            on: url(1),
            database: "Spade",
            documents: [{ id: "users/1", body: { name: "Oren", email: "new@example.com" } }],
          },
        ],
        explanation: "A accepts the change; it cannot send it to B.",
      },
      {
        title: "On B: change users/1's phone",
        actions: [
          { kind: "select", url: url(2) },
          {
            kind: "put",
            on: url(2),
            database: "Spade",
            documents: [{ id: "users/1", body: { name: "Oren", phone: "+44 20 7946 0000" } }],
          },
        ],
        explanation:
          "B accepts a different change to the same document: neither version has seen the other.",
      },
      {
        title: "Heal the network",
        actions: [{ kind: "heal" }],
        explanation:
          "Replication resumes, each side receives a version it has not seen, and with resolution “latest” the later write wins on both. Open users/1 on each server.",
      },
    ],
  },
  supervisor: {
    id: "supervisor",
    title: "The supervisor",
    servers: 5,
    setup: fiveNodes,
    intro:
      "Pitchfork on three nodes. Kill its preferred node and watch the supervisor's reasons in the timeline.",
    database: "Pitchfork",
    steps: [
      {
        title: "Kill Pitchfork's preferred node",
        actions: [{ kind: "kill", url: "preferred:Pitchfork" }],
        until: { kind: "member-not-first", database: "Pitchfork", tag: "killed" },
        explanation:
          "Silent for longer than the rotation threshold, the preferred node moves to the end of the members list.",
      },
      {
        title: "Wait for rehab",
        actions: [],
        until: { kind: "in-rehab", database: "Pitchfork", tag: "killed" },
        explanation:
          "Still silent after the longer threshold: the node leaves the members for rehab.",
      },
      {
        title: "Restart it",
        actions: [{ kind: "restart", url: "killed" }],
        until: { kind: "members", database: "Pitchfork", count: 3 },
        explanation:
          "Its siblings send what it missed; once it has caught up, it is promoted — at the end of the list.",
      },
    ],
  },
};

export function scenario(id: string): Scenario {
  const found = scenarios[id];
  if (!found)
    throw new Error(`no playground scenario "${id}"; known: ${Object.keys(scenarios).join(", ")}`);
  return found;
}
