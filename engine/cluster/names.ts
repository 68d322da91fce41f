import { escapeInvisible } from "../core/index.ts";
import { clusterLimits } from "./limits.ts";

/**
 * Device names Windows reserves; RavenDB refuses them as database names because a database is a
 * folder on disk, and we keep the rule so a name valid here is valid there.
 */
const reservedNames = new Set([
  "con",
  "prn",
  "aux",
  "nul",
  "com1",
  "com2",
  "com3",
  "com4",
  "com5",
  "com6",
  "com7",
  "com8",
  "com9",
  "lpt1",
  "lpt2",
  "lpt3",
  "lpt4",
  "lpt5",
  "lpt6",
  "lpt7",
  "lpt8",
  "lpt9",
]);

/*
 * RavenDB allows any Unicode letter or digit. We allow ASCII ones only: Unicode tables differ
 * between JavaScript engines, and two servers must never disagree on whether a name is valid.
 */
const allowedCharacter = /^[A-Za-z0-9_.-]$/;

/**
 * databaseNameProblem says what is wrong with `name` as a database name, or returns undefined when
 * it is valid: letters, digits, '_', '-' and '.', at most clusterLimits.databaseNameLengthMax
 * characters, a '.' only between other characters, and not a reserved device name.
 */
export function databaseNameProblem(name: string): string | undefined {
  if (name.trim() === "") return "a database name cannot be empty";
  const lengthMax = clusterLimits.databaseNameLengthMax;
  if (name.length > lengthMax) {
    return `the name has ${name.length} characters; at most ${lengthMax} are allowed`;
  }
  const bad = [...new Set([...name].filter((character) => !allowedCharacter.test(character)))];
  if (bad.length > 0) {
    // Shown escaped: a NUL or a line break in a name must be visible in the message.
    const shown = bad.map((character) => `'${escapeInvisible(character)}'`).join(", ");
    return `the name contains ${shown}; use only ASCII letters and digits, '_', '-' and '.'`;
  }
  if (name.startsWith(".") || name.endsWith(".") || name.includes("..")) {
    return "a '.' must be surrounded by other characters (no leading, trailing or double dots)";
  }
  if (reservedNames.has(name.toLowerCase())) {
    return `'${name}' is a reserved device name on Windows`;
  }
  return undefined;
}

const urlPattern = /^(https?):\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/?$/i;

/**
 * NormalisedUrl is the outcome of normaliseServerUrl. A problem is worded to follow the quoted
 * URL ("…" is not a server address: …), so each message names the URL once and says the fix once.
 */
export type NormalisedUrl = { readonly url: string } | { readonly problem: string };

/**
 * normaliseServerUrl checks that `url` is an absolute http(s) address of a server (scheme, host,
 * optional port, no path) and returns it lower-cased without a trailing slash, so
 * "HTTP://127.0.0.2:8080/" and "http://127.0.0.2:8080" name the same server.
 */
export function normaliseServerUrl(url: string): NormalisedUrl {
  if (url.length > clusterLimits.urlLengthMax) {
    return { problem: `is longer than ${clusterLimits.urlLengthMax} characters` };
  }
  const match = urlPattern.exec(url.trim());
  if (match === null) {
    return {
      problem: "is not a server address: give scheme, host and port, like http://127.0.0.2:8080",
    };
  }
  const [, scheme, host, port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return { problem: `has port ${port}, outside 1..65535` };
  }
  const portPart = port === undefined ? "" : `:${Number(port)}`;
  return { url: `${scheme!.toLowerCase()}://${host!.toLowerCase()}${portPart}` };
}

/** urlScheme returns "http" or "https" for a normalised URL. */
export function urlScheme(url: string): string {
  return url.slice(0, url.indexOf(":"));
}
