/**
 * The playground's public surface: the book imports widgets from here only (style-anchors §4).
 */
export { default as Playground } from "./ui/Playground.tsx";
export type { PlaygroundProps } from "./ui/Playground.tsx";
export { PlaygroundSession } from "./session.ts";
export { scenarios } from "./scenarios.ts";
