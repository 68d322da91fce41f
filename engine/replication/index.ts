export * from "./limits.ts";
export * from "./messages.ts";
export type * from "./ports.ts";
export * from "./outgoing.ts";
export * from "./incoming.ts";
export * from "./write-assurance.ts";
export * from "./wire.ts";
export * from "./external.ts";
