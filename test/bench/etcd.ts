/**
 * A 3-member etcd cluster of Debian's etcd (3.4) on loopback, for the http benchmark to measure
 * beside Rookery: free ports, its own data folders (removed by stop), fsync on (etcd's default),
 * and its JSON gateway (POST /v3/kv/put, /v3/maintenance/status) as the only way in, so both
 * systems are driven over plain HTTP from the same load generator.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../cli/processes.ts";

/** Where etcd is: ROOKERY_ETCD, or `etcd` on the PATH (Debian's etcd-server puts it in /usr/bin). */
export function findEtcd(): string | null {
  const named = process.env["ROOKERY_ETCD"];
  const candidate = named ?? "etcd";
  const probe = spawnSync(candidate, ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) return null;
  return candidate;
}

/** etcdVersion is the first line `etcd --version` prints ("etcd Version: 3.4.23"). */
export function etcdVersion(binary: string): string {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return (probe.stdout.split("\n")[0] ?? "").replace(/^etcd Version:\s*/, "");
}

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  child: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  stderrTail: string;
}

/** EtcdTiming is etcd's heartbeat and election timeout (ms), and whether it pre-votes. */
export interface EtcdTiming {
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly preVote: boolean;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** The tail of a member's stderr kept for the error that says why it did not start. */
const stderrTailBytesMax = 2_000;

/** EtcdCluster runs three etcd members as child processes of this one. */
export class EtcdCluster {
  private constructor(
    private readonly binary: string,
    private readonly root: string,
    private readonly members: Member[],
    private readonly timing: EtcdTiming,
  ) {}

  /** start launches three members and waits until each answers as healthy. */
  static async start(binary: string, timing: EtcdTiming): Promise<EtcdCluster> {
    const root = mkdtempSync(join(tmpdir(), "rookery-etcd-"));
    const members: Member[] = [];
    for (let n = 1; n <= 3; n++) {
      members.push({
        name: `e${n}`,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: join(root, `e${n}`),
        child: undefined,
        exited: undefined,
        stderrTail: "",
      });
    }
    const cluster = new EtcdCluster(binary, root, members, timing);
    try {
      for (const member of members) cluster.launch(member);
      await Promise.all(members.map((member) => cluster.untilHealthy(member)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get clientUrls(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  private launch(member: Member): void {
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
    const child = spawn(
      this.binary,
      [
        `--name=${member.name}`,
        `--data-dir=${member.dataDir}`,
        `--listen-client-urls=${member.clientUrl}`,
        `--advertise-client-urls=${member.clientUrl}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        "--initial-cluster-state=new",
        "--initial-cluster-token=rookery-bench",
        `--heartbeat-interval=${this.timing.heartbeatMs}`,
        `--election-timeout=${this.timing.electionMs}`,
        `--pre-vote=${this.timing.preVote}`,
        "--log-level=error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    member.stderrTail = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      member.stderrTail = (member.stderrTail + chunk).slice(-stderrTailBytesMax);
    });
    member.child = child;
    member.exited = new Promise((resolve) => child.once("close", () => resolve()));
    // This process's exit takes the member with it, even when the bench fails before stop().
    const killOnExit = (): void => void child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
  }

  private async untilHealthy(member: Member, timeoutMs = 30_000): Promise<void> {
    const started = performance.now();
    while (performance.now() - started < timeoutMs) {
      if (member.child?.exitCode !== null && member.child?.exitCode !== undefined)
        throw new Error(`etcd ${member.name} exited: ${member.stderrTail.trim()}`);
      try {
        const response = await fetch(`${member.clientUrl}/health`, {
          signal: AbortSignal.timeout(1_000),
        });
        const body = (await response.json()) as { health?: string };
        if (body.health === "true") return;
      } catch {
        // Not listening yet, or no leader yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`etcd ${member.name} not healthy after ${timeoutMs} ms: ${member.stderrTail}`);
  }

  /** put writes one key through a member's JSON gateway; it resolves once etcd acknowledged it. */
  async put(clientUrl: string, key: string, value: string, timeoutMs = 5_000): Promise<void> {
    const response = await fetch(`${clientUrl}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: b64(key), value: b64(value) }),
      headers: { "content-type": "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { header?: unknown; error?: string };
    if (!response.ok || body.header === undefined)
      throw new Error(`etcd put: ${response.status} ${body.error ?? JSON.stringify(body)}`);
  }

  /** leader is the client URL of the member the live members name as leader. */
  async leader(): Promise<string> {
    for (const member of this.members) {
      if (!member.child || member.child.exitCode !== null) continue;
      try {
        const response = await fetch(`${member.clientUrl}/v3/maintenance/status`, {
          method: "POST",
          body: "{}",
          signal: AbortSignal.timeout(1_000),
        });
        const status = (await response.json()) as { leader?: string };
        if (!status.leader || status.leader === "0") continue;
        for (const other of this.members) {
          const answer = await fetch(`${other.clientUrl}/v3/maintenance/status`, {
            method: "POST",
            body: "{}",
            signal: AbortSignal.timeout(1_000),
          }).catch(() => undefined);
          if (!answer) continue;
          const mine = (await answer.json()) as { header?: { member_id?: string } };
          if (mine.header?.member_id === status.leader) return other.clientUrl;
        }
      } catch {
        // This member cannot say; ask the next.
      }
    }
    throw new Error("no etcd member names a leader");
  }

  private member(clientUrl: string): Member {
    const member = this.members.find((m) => m.clientUrl === clientUrl);
    if (!member) throw new Error(`no etcd member at ${clientUrl}`);
    return member;
  }

  /** kill sends SIGKILL to a member and waits until it is gone. */
  async kill(clientUrl: string): Promise<void> {
    const member = this.member(clientUrl);
    member.child?.kill("SIGKILL");
    await member.exited;
    member.child = undefined;
  }

  /** restart starts a killed member again on its data folder and waits until it is healthy. */
  async restart(clientUrl: string): Promise<void> {
    const member = this.member(clientUrl);
    this.launch(member);
    await this.untilHealthy(member);
  }

  /** stop ends every member (SIGTERM, then SIGKILL if it lingers) and removes the data folders. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (member) => {
        const { child, exited } = member;
        if (!child || !exited) return;
        child.kill("SIGTERM");
        const lingering = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(lingering);
        member.child = undefined;
      }),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}
