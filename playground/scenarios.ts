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
      /** Text attachments stored in the same transaction (text/plain). */
      readonly attachments?: readonly {
        readonly documentId: string;
        readonly name: string;
        readonly text: string;
      }[];
      readonly waitForReplicas?: number;
    }
  | {
      readonly kind: "delete";
      readonly on: string;
      readonly database: string;
      readonly id: string;
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
  | { readonly kind: "wait"; readonly until: Condition }
  /** The page's clients (Scenario.clients), numbered from 0: they talk to the section's database. */
  | {
      readonly kind: "client-save";
      readonly client: number;
      readonly id: string;
      readonly body: Record<string, unknown>;
      /** Write assurance: wait for this many replicas. */
      readonly replicas?: number;
    }
  | {
      readonly kind: "client-load";
      readonly client: number;
      readonly id: string;
      /** The read should fail (the client reaches no instance); the step says so instead of stopping. */
      readonly expectFailure?: boolean;
    }
  | {
      readonly kind: "client-read-balance";
      readonly client: number;
      readonly mode: "none" | "roundRobin" | "fastestNode";
    }
  /** Cut a client off from these servers (and only these); an empty list reconnects it. */
  | { readonly kind: "client-cut"; readonly client: number; readonly urls: readonly string[] };

/**
 * Predict is a "predict, then see" question asked before a step runs (in the manner of The Secret
 * Lives of Data and Learn Git Branching). The controls show `question` with `choices` as a radio
 * group next to Next step; the reader may pick one, then runs the step; afterwards the playground
 * reveals `choices[answer]` with `explain`, which should point at what the timeline, the graph or
 * the Rachis panel now shows. Content only: a chapter adds it to any step without touching the UI.
 *
 * ```ts
 * predict: {
 *   question: "A is down. What happens when you create Pitchfork on B?",
 *   choices: ["It is created on B", "It fails: there is no leader"],
 *   answer: 1,
 *   explain: "The timeline shows B's elections failing: one vote of two is not a majority.",
 * }
 * ```
 */
export interface Predict {
  readonly question: string;
  /** Two to five short answers, in the order they are shown. */
  readonly choices: readonly string[];
  /** The index in `choices` of what happens. */
  readonly answer: number;
  /** Why, in terms of what the reader can now see on screen. */
  readonly explain: string;
}

/** Step is one press of Next step: what it is, what it does, and what to notice. */
export interface Step {
  readonly title: string;
  readonly actions: readonly Action[];
  /** What the step leaves true; the step is done once this holds. */
  readonly until?: Condition;
  readonly explanation: string;
  /** Ask the reader to predict the outcome before the step runs (see Predict). */
  readonly predict?: Predict;
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
  /** Clients on the page (0–2), each a DocumentStore on `database` with its own settings. */
  readonly clients?: number;
  /** A sum the documents panel keeps in view, e.g. the total of the accounts. */
  readonly watchSum?: { readonly label: string; readonly database: string; readonly field: string };
  /** The Rachis panel starts open (the engine tour's "Rachis up close"). */
  readonly rachis?: boolean;
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
      "A database operation: no Rachis entry, no vote — A stores them on its own. They exist only on A, because Spade lives only on A, and are there so we can watch them move.",
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
    predict: {
      question: "B is now part of the cluster. Does it hold Spade's users/1 and users/2?",
      choices: [
        "Yes: joining a cluster copies its databases to the newcomer",
        "No: B learns that Spade exists, but holds none of its documents",
      ],
      answer: 1,
      explain:
        "Joining the cluster gave B the cluster's state — the list of databases and who hosts them — through the Rachis log. Spade's group still names only A, so B's documents panel is empty and Spade shows as Offline on B until it joins the group.",
    },
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
    predict: {
      question: "A is down and B is alone. What happens when you create Pitchfork on B?",
      choices: [
        "B creates Pitchfork; A gets it when it comes back",
        "It fails after a while: nobody leads, so the cluster cannot decide",
        "B becomes leader on its own and then creates Pitchfork",
      ],
      answer: 1,
      explain:
        "Creating a database is a Rachis command, and a command needs a leader. B keeps starting elections (see the timeline, or the Rachis panel's growing term) but wins only its own vote: one of two is not a majority.",
    },
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
    predict: {
      question: "There is still no leader. What happens when you write users/3 to Spade on B?",
      choices: [
        "It fails, like creating Pitchfork did",
        "B stores it; A gets it once it is back",
        "B keeps it in memory and writes it only when a leader exists",
      ],
      answer: 1,
      explain:
        "Writing a document is not a cluster decision: Spade's instance on B commits it to its own storage at once, and the documents panel shows users/3 on B. Rachis is needed for the database's record, not for its data.",
    },
  },
  {
    title: "Restart node A",
    actions: [{ kind: "restart", url: url(1) }],
    until: { kind: "documents", tag: "A", database: "Spade", ids: ["users/3"] },
    explanation:
      "A comes back with what it had written, the two elect a leader (either may win), and B sends A the users/3 it missed.",
  },
];

/** The rest of the garden shed (expanding.mdx's table), created after Spade and Pitchfork. */
const gardenShed: readonly (readonly [string, number])[] = [
  ["Rake", 2],
  ["Hoe", 3],
  ["Shears", 2],
  ["Trowel", 3],
  ["Shovel", 2],
  ["Wheelbarrow", 3],
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
      "Every server sees the whole topology. Spade is Offline on D: databases stay where they were put. Yet D can tell a client that Spade lives on A and B, which is why a client needs only one server that answers.",
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
  {
    title: "Fill the garden shed: six more databases",
    actions: gardenShed.map(([name, replicationFactor]): Action => ({
      kind: "create-database",
      on: url(1),
      name,
      replicationFactor,
    })),
    until: { kind: "members", database: "Wheelbarrow", count: 3 },
    explanation:
      "Rake, Hoe, Shears, Trowel, Shovel and Wheelbarrow, factors 2 and 3 in turn. The least loaded servers get each one, and the server preferred for the fewest databases goes first: every server now hosts four, and the preferred roles are spread out.",
  },
  {
    title: "Kill A and B",
    actions: [
      { kind: "kill", url: url(1) },
      { kind: "kill", url: url(2) },
      { kind: "select", url: url(3) },
    ],
    until: { kind: "leader" },
    explanation:
      "Three of five servers still make a majority, and every factor-3 database keeps two copies. Spade, Rake, Shears and Shovel live on A and B only: of all the pairs of servers that could fail, this is the one that takes them offline.",
    predict: {
      question:
        "Eight databases on five servers. You kill A and B. Which databases can still be used?",
      choices: [
        "None: two of five servers is too many to lose",
        "Those with a copy on C, D or E; the ones kept only on A and B go offline",
        "All of them: the cluster copies the lost ones elsewhere before you notice",
      ],
      answer: 1,
      explain:
        "C, D and E are three of five, so Rachis still has a leader, and every database with a copy on them keeps serving. The databases panel shows which groups were only A and B: Spade and the factor-2 databases placed on that pair are offline until one of the two returns.",
    },
  },
  {
    title: "Restart A and B",
    actions: [
      { kind: "restart", url: url(1) },
      { kind: "restart", url: url(2) },
    ],
    until: { kind: "members", database: "Spade", count: 2 },
    explanation: "Both come back and catch up; every database has its copies again.",
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
      predict: {
        question: round
          ? "Revisions are on now. Does B's total leave $200 this time?"
          : "Replication sends one transaction per batch. While the two batches land, what total does B show?",
        choices: ["Always $200", "For a moment, something other than $200"],
        answer: round ? 0 : 1,
        explain: round
          ? "The first transaction also wrote a revision of your account at $110, and that revision is still its own, so the first batch carries both accounts: B shows 110 / 90 / 0, then 107 / 90 / 3. Watch the total beside the documents."
          : "Neither transaction is split, but the first one arrives without your account: its version now belongs to the second transaction. The total beside the documents reads $190 until the second batch lands.",
      },
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

/** Spade on A, B and C with users/1 and users/2 (the load-balancing section's group of three). */
const spadeOnThree: Action[] = [
  ...twoNodeSpade,
  { kind: "add-node", on: url(1), url: url(3) },
  { kind: "wait", until: { kind: "tag", url: url(3), tag: "C" } },
  { kind: "add-database-node", on: url(1), database: "Spade", tag: "C" },
  { kind: "wait", until: { kind: "members", database: "Spade", count: 3 } },
  { kind: "wait", until: { kind: "documents", tag: "C", database: "Spade", ids: ["users/2"] } },
];

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
      "Five nodes; Spade on A and B, and two clients of Spade below. Kill Spade's preferred node and watch the clients fail over, and the cluster move them away from it.",
    database: "Spade",
    clients: 2,
    steps: [
      {
        title: "Kill Spade's preferred node",
        actions: [{ kind: "kill", url: "preferred:Spade" }],
        until: { kind: "member-not-first", database: "Spade", tag: "killed" },
        explanation:
          "Clients fail over to the next member at once; the supervisor then makes it official by rotating the dead node to the end of the members list.",
        predict: {
          question: "Spade's preferred node dies. What happens to the order of Spade's members?",
          choices: [
            "Nothing changes until the node comes back",
            "After a short silence the supervisor moves it to the end, so the next member is preferred",
            "It is dropped from Spade's group at once",
          ],
          answer: 1,
          explain:
            "The supervisor on the leader waits a little before it acts; the timeline gives its reason, and the databases panel shows the dead node last in Spade's list. Each client learns the new order with its next topology update, and until then skips the dead node on its own.",
        },
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
    intro:
      "Spade on A and B. Kill B, then save with “wait for one replica” on A — or through the client below, which shows how long its save waited.",
    database: "Spade",
    clients: 1,
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
        predict: {
          question:
            "B is dead. You save tasks/1 on A and ask to wait for one replica. What do you get?",
          choices: [
            "Success: A has it, and that is enough",
            "An error at once: A refuses a save it cannot replicate",
            "An error after a wait, and tasks/1 is stored nowhere",
            "An error after a wait, but tasks/1 is stored on A",
          ],
          answer: 3,
          explain:
            "A commits the transaction first and only then waits for a sibling to confirm it; none can. The save ends in an error once the wait runs out, yet the documents panel shows tasks/1 on A. Write assurance is not a distributed transaction: the error means 'not confirmed', not 'not written'.",
        },
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
  "load-balancing": {
    id: "load-balancing",
    title: "Load balancing reads",
    servers: 3,
    setup: spadeOnThree,
    intro:
      "Spade on A, B and C with users/1 and users/2, and two clients. Each client's read-balance mode decides where its reads go; writes always go to the preferred node.",
    database: "Spade",
    clients: 2,
    steps: [
      {
        title: "Client 1 reads users/1 three times (read balance: none)",
        actions: [
          { kind: "client-load", client: 0, id: "users/1" },
          { kind: "client-load", client: 0, id: "users/1" },
          { kind: "client-load", client: 0, id: "users/1" },
        ],
        explanation: "Every read goes to the preferred node, A: B and C only receive replication.",
      },
      {
        title: "Client 2 switches to round robin and reads three times",
        actions: [
          { kind: "client-read-balance", client: 1, mode: "roundRobin" },
          { kind: "client-load", client: 1, id: "users/1" },
          { kind: "client-load", client: 1, id: "users/1" },
          { kind: "client-load", client: 1, id: "users/1" },
        ],
        explanation:
          "Each session reads from the next node of the topology in turn: the reads spread over the group.",
      },
      {
        title: "Cut client 2 off from A and read again",
        actions: [
          { kind: "client-cut", client: 1, urls: [url(1)] },
          { kind: "client-load", client: 1, id: "users/1" },
          { kind: "client-load", client: 1, id: "users/1" },
        ],
        explanation:
          "Client 2 cannot reach A, but the others can: its requests to A time out and it reads from B and C, while client 1 still uses A.",
      },
      {
        title: "Cut client 2 off from B and C too, and read",
        actions: [
          { kind: "client-cut", client: 1, urls: [url(1), url(2), url(3)] },
          { kind: "client-load", client: 1, id: "users/1", expectFailure: true },
        ],
        explanation:
          "Now client 2 reaches no instance of Spade: it tries each node of its topology, each one times out, and only then does its read raise an error. Client 1, which still reaches A, notices nothing.",
        predict: {
          question: "Client 2 can now reach none of Spade's servers. What does its next read do?",
          choices: [
            "It fails at once",
            "It tries each server in turn, and raises an error only when all have failed",
            "It waits until a server is reachable again",
          ],
          answer: 1,
          explain:
            "Client 2's request list shows a failed attempt on each of A, B and C, each after its timeout, and then the error. Nothing changed for client 1, which still reads from A: each client fails over from its own view of the network.",
        },
      },
      {
        title: "Client 1 switches to fastest node and reads users/1 eight times",
        actions: [
          { kind: "client-read-balance", client: 0, mode: "fastestNode" },
          ...[1, 2, 3, 4, 5, 6, 7, 8].map((): Action => ({
            kind: "client-load",
            client: 0,
            id: "users/1",
          })),
        ],
        explanation:
          "Until it knows better, the client races each read against every node of the group and counts which answers first; once one node has won enough races, its reads go there alone, until it measures again. Watch the reasons in client 1's list change.",
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
      {
        title: "Cut off E, then edit tines/1 three times",
        actions: [
          { kind: "partition", a: [url(5)], b: [url(1), url(2), url(3), url(4)] },
          ...[1, 2, 3].map((edit): Action => ({
            kind: "put",
            on: "preferred:Pitchfork",
            database: "Pitchfork",
            documents: [{ id: "tines/1", body: { tines: 3, edit } }],
          })),
        ],
        explanation:
          "Three transactions on the preferred node change tines/1 to edit 1, 2 and 3 while E can hear none of them.",
      },
      {
        title: "Heal, and open tines/1 on E",
        actions: [{ kind: "heal" }, { kind: "select", url: url(5) }],
        explanation:
          "E receives one version of tines/1, the third edit: the sender sends what a document is now, never the versions in between. With revisions on, the in-between versions would travel too, as revisions.",
        predict: {
          question:
            "E missed three edits of tines/1, and revisions are off. What reaches E when the network heals?",
          choices: [
            "All three versions, oldest first",
            "Only the last version",
            "Nothing until tines/1 changes again",
          ],
          answer: 1,
          explain:
            "Replication sends each document as it is now. The batch to E in the timeline carries tines/1 once, with the third edit; the earlier two were overwritten on the preferred node, so there is nothing else to send.",
        },
      },
      {
        title: "Turn revisions on for Tines, and cut C off from D and E",
        actions: [
          {
            kind: "set-revisions",
            on: url(1),
            database: "Pitchfork",
            collection: "Tines",
            enabled: true,
          },
          { kind: "partition", a: [url(3)], b: [url(4), url(5)] },
        ],
        explanation:
          "From now on every change to a Tines document also stores a revision, on whichever server makes it. C and D can no longer hear each other.",
      },
      {
        title: "Change tines/1 on C and on D",
        actions: [
          {
            kind: "put",
            on: url(3),
            database: "Pitchfork",
            documents: [{ id: "tines/1", body: { tines: 3, by: "a client of C" } }],
          },
          {
            kind: "put",
            on: url(4),
            database: "Pitchfork",
            documents: [{ id: "tines/1", body: { tines: 4, by: "a client of D" } }],
          },
        ],
        explanation:
          "Two clients on the two sides each change tines/1. Each server stores its own client's change as a revision at once.",
      },
      {
        title: "Heal, and compare tines/1's revisions on C and D",
        actions: [{ kind: "heal" }, { kind: "select", url: url(3) }],
        explanation:
          "Each side now receives the other's revision and settles the conflict the same way. C and D end with the same revisions, but C lists its client's change before D's and D the other way round: nothing can tell which came first.",
      },
      {
        title: "Attach a care note to tines/2, delete tines/3, and open tines/2 on E",
        actions: [
          {
            kind: "put",
            on: "preferred:Pitchfork",
            database: "Pitchfork",
            documents: [{ id: "tines/2", body: { tines: 4, oiled: true } }],
            attachments: [
              { documentId: "tines/2", name: "care.txt", text: "Oil the tines before winter." },
            ],
          },
          { kind: "delete", on: "preferred:Pitchfork", database: "Pitchfork", id: "tines/3" },
          { kind: "select", url: url(5) },
        ],
        until: { kind: "documents", tag: "E", database: "Pitchfork", ids: ["tines/2"] },
        explanation:
          "One transaction changes tines/2 and attaches care.txt to it; another deletes tines/3. On E, open tines/2: care.txt is listed and opens with its text, and the revisions list holds the version that came with it. tines/3 is gone from E's list — the deletion arrived as a tombstone. Documents, deletions, attachments and revisions all replicate.",
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
        predict: {
          question:
            "Spade resolves conflicts with “latest”. After the heal, what is users/1 on A and on B?",
          choices: [
            "A keeps the email version and B the phone version",
            "Both hold B's version, with the phone: it was written later",
            "Both hold a merge with the email and the phone",
            "Replication stops until someone chooses",
          ],
          answer: 1,
          explain:
            "Each side receives a version whose change vector it has not seen, which is a conflict. “Latest” picks the version modified last — B's — on both servers, so they agree again. The email changed on A is gone: nothing merges fields for you.",
        },
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
        predict: {
          question:
            "The node that was preferred comes back. Where does it end up in Pitchfork's members list?",
          choices: [
            "First again: it was preferred before",
            "Last, once it has caught up",
            "Nowhere: it stays in rehab until you promote it",
          ],
          answer: 1,
          explain:
            "It stays in rehab while it receives what it missed, then the supervisor promotes it on its mentor's report — to the end of the list, so a node that fails again and again does not keep taking the preferred role back.",
        },
      },
    ],
  },
  "rachis-up-close": {
    id: "rachis-up-close",
    title: "Rachis up close",
    servers: 3,
    rachis: true,
    setup: [
      { kind: "create-database", on: url(1), name: "Spade" },
      { kind: "add-node", on: url(1), url: url(2) },
      { kind: "wait", until: { kind: "tag", url: url(2), tag: "B" } },
      { kind: "add-node", on: url(1), url: url(3) },
      { kind: "wait", until: { kind: "tag", url: url(3), tag: "C" } },
      { kind: "wait", until: { kind: "all-joined" } },
    ],
    intro:
      "Three servers in one cluster, A leading. In the Rachis panel each follower's election timer fills and a heartbeat from A empties it again; every log ends at the same committed entry.",
    steps: [
      {
        title: "Kill node A, the leader",
        actions: [
          { kind: "kill", url: url(1) },
          { kind: "select", url: url(2) },
        ],
        until: { kind: "leader" },
        explanation:
          "No more heartbeats: B's and C's timers fill up. The first to fire asks the other for a pre-vote, then for its vote in a new term; two votes of three is a majority, so it leads. Its first entry, a no-op of its own term, commits the log it inherited.",
      },
      {
        title: "Create Pitchfork on B",
        actions: [{ kind: "create-database", on: url(2), name: "Pitchfork" }],
        explanation:
          "The leader appends the command to its log (dashed: not committed), sends it in an append, and commits it once a majority holds it: itself and the other survivor. The follower moves its commit index on the next message from the leader.",
      },
      {
        title: "Restart A",
        actions: [{ kind: "restart", url: url(1) }],
        until: { kind: "all-joined" },
        explanation:
          "A comes back with the term it had and the log it had. The leader's first append is refused (A lacks entries), the leader backs up, and A's log and commit index catch up with the leader's: Pitchfork included, though A was dead when it was created.",
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
