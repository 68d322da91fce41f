#!/usr/bin/env node
// `rookery`: the package's bin, and what `npm run sim|walkthrough|cluster|exercise|bench` run.
import { main } from "./main.ts";

// A reader that stopped early (`rookery walkthrough | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });

process.exitCode = await main(process.argv.slice(2));
