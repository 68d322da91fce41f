import {
  applyClusterCommand,
  emptyClusterState,
  prepareClusterCommand,
} from "../../engine/cluster/index.ts";
import type {
  ClusterCommand,
  ClusterCommandAccepted,
  ClusterCommandResult,
  ClusterError,
  ClusterState,
} from "../../engine/cluster/index.ts";

/** chapterUrl is the address of the chapter's n-th server (1-based): http://127.0.0.n:8080. */
export const chapterUrl = (n: number): string => `http://127.0.0.${n}:8080`;

/**
 * ClusterLog plays the part of Rachis for these tests: it applies commands one after another with
 * growing Raft indexes, as every server would after they commit.
 */
export class ClusterLog {
  state: ClusterState = emptyClusterState();
  index = 0;
  readonly results: ClusterCommandResult[] = [];

  apply(command: unknown): ClusterCommandResult {
    this.index += 1;
    const { state, result } = applyClusterCommand(this.state, command, this.index);
    this.state = state;
    this.results.push(result);
    return result;
  }

  /** accept applies `command` and fails the test if it is refused. */
  accept(command: ClusterCommand): ClusterCommandAccepted {
    const result = this.apply(command);
    if (!result.ok) throw new Error(`expected ${command.type} to apply: ${result.error.message}`);
    return result;
  }

  /** refuse applies `command` and fails the test if it is accepted. */
  refuse(command: unknown): ClusterError {
    const result = this.apply(command);
    if (result.ok) throw new Error(`expected the command to be refused: ${result.message}`);
    return result.error;
  }

  /** propose does what a leader does: prepare (validate, decide) and then apply. */
  propose(command: ClusterCommand): ClusterCommandAccepted {
    const prepared = prepareClusterCommand(this.state, command);
    if (!prepared.ok)
      throw new Error(`expected ${command.type} to be accepted: ${prepared.error.message}`);
    return this.accept(prepared.command);
  }

  record(name: string) {
    const record = this.state.databases[name.toLowerCase()];
    if (record === undefined) throw new Error(`no database ${name}`);
    return record;
  }
}

/** clusterOf returns a log whose cluster has `size` servers: A at 127.0.0.1, B at 127.0.0.2 … */
export function clusterOf(size: number): ClusterLog {
  const log = new ClusterLog();
  log.accept({ type: "bootstrap", url: chapterUrl(1), topologyId: "rookery-test" });
  for (let n = 2; n <= size; n++) log.accept({ type: "addNode", url: chapterUrl(n) });
  return log;
}
