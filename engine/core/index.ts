export * from "./assert.ts";
export * from "./errors.ts";
export * from "./tags.ts";
export * from "./random.ts";
export * from "./clock.ts";
export * from "./limits.ts";
export * from "./describe.ts";
export * from "./change-vector.ts";
