/**
 * The Node topology cache: one JSON file per key, `<dir>/<key>.rookery-topology.json`, like the C#
 * client's `{database}.{hash}.raven-database-topology`. The only file in engine/client that
 * touches node:fs; exported from engine/client/node.ts, never from the browser barrel.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isTopologyView } from "./cache.ts";
import type { TopologyCache } from "./cache.ts";
import type { TopologyView } from "../transport/index.ts";

/** FsTopologyCache keeps each cached topology in its own file under `dir`. */
export class FsTopologyCache implements TopologyCache {
  private writes = 0;

  constructor(private readonly dir: string) {}

  private file(key: string): string {
    // Keys are "<database>.<hash>"; anything else that could escape the folder is replaced.
    return join(this.dir, `${key.replace(/[^a-zA-Z0-9._-]/g, "_")}.rookery-topology.json`);
  }

  async load(key: string): Promise<TopologyView | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      // A torn or foreign file is no topology: the client then fails as if there were no cache.
      return isTopologyView(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async save(key: string, topology: TopologyView): Promise<void> {
    const kept = await this.load(key);
    if (kept && kept.etag > topology.etag) return;
    await mkdir(this.dir, { recursive: true });
    // Write then rename, so a crash mid-write leaves the old file rather than half a new one.
    const target = this.file(key);
    const temporary = `${target}.${this.writes++}.tmp`;
    await writeFile(temporary, JSON.stringify(topology));
    await rename(temporary, target);
  }
}
