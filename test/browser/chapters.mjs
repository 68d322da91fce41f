// Every page of the book, in reading order, with the title its <h1> must show. The tests check
// that this list and the built site agree, so a new page cannot slip in untested.
export const chapters = [
  { path: "", title: "Introduction" },
  { path: "chapter/two-layers/", title: "The two layers: a CP cluster and AP databases" },
  { path: "chapter/first-cluster/", title: "Your first cluster" },
  { path: "chapter/kicking-the-tires/", title: "Kicking the tires" },
  { path: "chapter/expanding/", title: "Expanding to five nodes" },
  { path: "chapter/database-group/", title: "The database group" },
  { path: "chapter/client-failover/", title: "Client interaction and failover" },
  { path: "chapter/write-assurance/", title: "Write assurance for high-value data" },
  { path: "chapter/load-balancing/", title: "Load balancing reads" },
  { path: "chapter/replication/", title: "Replication inside a database group" },
  { path: "chapter/transaction-atomicity/", title: "Transaction atomicity and replication" },
  { path: "chapter/conflicts/", title: "Conflicts" },
  { path: "chapter/supervisor/", title: "The supervisor" },
  { path: "engine/inside/", title: "Inside the engine" },
  { path: "run-for-real/", title: "Run it for real" },
  { path: "exercises/", title: "Exercises" },
  { path: "teaching/", title: "Teaching with the exercises" },
  { path: "exercises/bootstrap/", title: "Bootstrap a cluster and read its tags" },
  { path: "exercises/grow-group/", title: "Add a node and grow a database group" },
  {
    path: "exercises/leaderless-writes/",
    title: "Lose the leader while Spade keeps taking writes",
  },
  { path: "exercises/failover/", title: "Make a client fail over without an error" },
  { path: "exercises/write-assurance/", title: "Make write assurance fail while the data stays" },
  {
    path: "exercises/partial-transaction/",
    title: "Reproduce the partial transaction of Listings 6.3/6.4, then prevent it with revisions",
  },
  { path: "exercises/conflicts/", title: "Create a conflict and resolve it both ways" },
  { path: "exercises/pitchfork/", title: "Place Pitchfork so that it survives any two failures" },
  {
    path: "exercises/supervisor/",
    title: "Watch the supervisor rotate a preferred node and bring a rehab back",
  },
  {
    path: "exercises/majority/",
    title: "Predict, then verify, which operations fail without a majority",
  },
  {
    path: "exercises/partition/",
    title: "Predict which operations succeed on each side of a partition",
  },
];
