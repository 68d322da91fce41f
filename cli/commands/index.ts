/**
 * Every `rookery <command>`, in the order `rookery --help` lists them. A new command is one module
 * exporting a CommandSpec (see cli/command.ts) and one line here.
 */
import type { CommandSpec } from "../command.ts";
import { benchCommand } from "./bench.ts";
import { clusterCommand } from "./cluster.ts";
import { exerciseCommand } from "./exercise.ts";
import { serveCommand } from "./serve.ts";
import { simCommand } from "./sim.ts";
import { walkthroughCommand } from "./walkthrough.ts";

export const commands: readonly CommandSpec[] = [
  clusterCommand,
  serveCommand,
  walkthroughCommand,
  exerciseCommand,
  simCommand,
  benchCommand,
];
