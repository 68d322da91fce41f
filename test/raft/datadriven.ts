/**
 * A small reader and writer for data-driven test files, in the format of cockroachdb/datadriven
 * (which etcd-io/raft's interaction tests use):
 *
 *   # Comment lines and blank lines between blocks are kept as they are.
 *   command arg key=value key=(a,b)
 *   ----
 *   expected output, one or more lines, ending at the first blank line
 *
 * Expected output never contains a blank line, so a file can be rewritten from actual output
 * without losing its comments or commands.
 */

/** Directive is one command of a script: where it is, what it says, and the output expected. */
export interface Directive {
  /** 1-based line of the command in its file. */
  readonly line: number;
  readonly command: string;
  /** Positional words after the command, e.g. node names. */
  readonly words: readonly string[];
  /** key=value arguments; a value in parentheses is split on commas. */
  readonly args: ReadonlyMap<string, readonly string[]>;
  /** The exact command line, as written. */
  readonly text: string;
  /** Comment and blank lines that precede the command. */
  readonly preamble: readonly string[];
  readonly expected: string;
}

/** Script is a parsed file: its directives and whatever trails the last one. */
export interface Script {
  readonly directives: readonly Directive[];
  readonly trailer: readonly string[];
}

const separator = "----";

/** parseScript reads a data-driven file; a malformed file throws with its line number. */
export function parseScript(file: string, text: string): Script {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const directives: Directive[] = [];
  let preamble: string[] = [];
  let k = 0;
  while (k < lines.length) {
    const line = lines[k]!;
    if (line.trim() === "" || line.startsWith("#")) {
      preamble.push(line);
      k++;
      continue;
    }
    const commandLine = k + 1;
    if (lines[k + 1] !== separator)
      throw new Error(`${file}:${commandLine + 1}: expected "${separator}" after "${line}"`);
    k += 2;
    const output: string[] = [];
    while (k < lines.length && lines[k]!.trim() !== "") output.push(lines[k++]!);
    k++; // the blank line that ends the output belongs to this block
    directives.push({
      line: commandLine,
      ...parseCommand(line),
      preamble,
      expected: output.join("\n"),
    });
    preamble = [];
  }
  return { directives, trailer: preamble };
}

function parseCommand(text: string): Pick<Directive, "command" | "words" | "args" | "text"> {
  const [command, ...rest] = text.trim().split(/\s+/);
  const words: string[] = [];
  const args = new Map<string, readonly string[]>();
  for (const token of rest) {
    const equals = token.indexOf("=");
    if (equals <= 0) {
      words.push(token);
      continue;
    }
    const value = token.slice(equals + 1);
    const list = value.startsWith("(") && value.endsWith(")") ? value.slice(1, -1) : value;
    args.set(
      token.slice(0, equals),
      list.split(",").filter((item) => item !== ""),
    );
  }
  return { command: command!, words, args, text: text.trimEnd() };
}

/** renderScript writes a script back with `outputs` (one per directive) as the expected output. */
export function renderScript(script: Script, outputs: readonly string[]): string {
  const lines: string[] = [];
  script.directives.forEach((directive, k) => {
    lines.push(...directive.preamble, directive.text, separator, outputs[k]!, "");
  });
  lines.push(...script.trailer);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n") + "\n";
}
