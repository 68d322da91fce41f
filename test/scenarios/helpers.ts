import { isRookeryError } from "../../engine/core/index.ts";
import { SimCluster } from "../../engine/runtime/sim/index.ts";
import type { SimClusterOptions } from "../../engine/runtime/sim/index.ts";
import type { ServerRequest, ServerResponse } from "../../engine/transport/index.ts";

/** ok unwraps a successful response, or fails with the server's own error message. */
export function ok<T = unknown>(response: ServerResponse): T {
  if (!response.ok) throw new Error(`${response.error.code}: ${response.error.message}`);
  return response.result as T;
}

/** Chapter wraps a SimCluster with the chapter's vocabulary: servers by tag, documents by id. */
export class Chapter {
  constructor(readonly cluster: SimCluster) {}

  static start(servers: number, options: Omit<SimClusterOptions, "servers"> = {}): Chapter {
    return new Chapter(new SimCluster({ servers, ...options }));
  }

  url(tagOrIndex: string | number): string {
    if (typeof tagOrIndex === "number") return this.cluster.urls[tagOrIndex]!;
    const row = this.cluster.servers.find((s) => s.tag === tagOrIndex);
    if (!row)
      throw new Error(`no server tagged ${tagOrIndex}: ${JSON.stringify(this.cluster.servers)}`);
    return row.url;
  }

  ask(on: string | number, request: ServerRequest): Promise<ServerResponse> {
    return this.cluster.request(this.url(on), request);
  }

  async put(
    on: string,
    database: string,
    documents: Record<string, Record<string, unknown>>,
  ): Promise<ServerResponse> {
    const puts = Object.entries(documents).map(([id, body]) => ({ id, body }));
    return this.ask(on, { type: "batch", database, transaction: { puts } });
  }

  /** ids lists the document ids a server's instance of `database` holds right now. */
  ids(tag: string, database: string): string[] {
    return this.cluster.describe().documents[tag]?.[database] ?? [];
  }

  /** body reads a document straight from a server's instance (what a reader there would see). */
  body(tag: string, database: string, id: string): Record<string, unknown> | undefined {
    try {
      return this.cluster.server(tag)?.hostedDatabase(database)?.instance.get(id)?.body as
        Record<string, unknown> | undefined;
    } catch (error) {
      // A document in conflict has no single body; a reader there gets the conflict error.
      if (isRookeryError(error, "DocumentConflict")) return undefined;
      throw error;
    }
  }

  topology(database: string) {
    const record = this.cluster.databaseRecord(database);
    if (!record) throw new Error(`no database ${database}`);
    return record.topology;
  }
}
