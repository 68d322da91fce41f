/**
 * The cluster layer: the state machine every server applies from committed Rachis entries
 * (servers, tags, database records, placement) and the supervisor's decisions, all pure functions.
 */
export * from "./limits.ts";
export * from "./model.ts";
export * from "./errors.ts";
export * from "./commands.ts";
export * from "./names.ts";
export * from "./queries.ts";
export * from "./placement.ts";
export * from "./tasks.ts";
export { describeDestination } from "./apply-tasks.ts";
export * from "./status.ts";
export * from "./validate.ts";
export * from "./results.ts";
export * from "./apply.ts";
export * from "./prepare.ts";
export * from "./render.ts";
export * from "./supervisor.ts";
