/**
 * Exercism's test-runner results.json (interface version 2): one entry per check, so an
 * autograder shows the same checklist as the CLI.
 */
import type { RunReport } from "./runner.ts";

/** ResultsJson is Exercism's results.json shape. */
export interface ResultsJson {
  readonly version: 2;
  readonly status: "pass" | "fail" | "error";
  readonly message?: string;
  readonly tests: readonly {
    readonly name: string;
    readonly status: "pass" | "fail" | "error";
    readonly message?: string;
    readonly test_code?: string;
  }[];
}

/**
 * resultsJson renders a report. A solution that threw or timed out is "error" with the reason as
 * the top-level message (Exercism's meaning: the tests could not run to completion); each check
 * still gets its line, so a student sees how far the run got.
 */
export function resultsJson(report: Omit<RunReport, "record">): ResultsJson {
  return {
    version: 2,
    status: report.status,
    ...(report.message !== undefined ? { message: report.message } : {}),
    tests: report.checks.map((line) => ({
      name: line.description,
      status: line.ok ? "pass" : "fail",
      ...(line.ok ? {} : { message: line.detail }),
      test_code: `${report.exercise}/${line.id}`,
    })),
  };
}
