// A throwaway 3-member etcd cluster on 127.0.0.1 for the comparison benchmark: free ports,
// a fresh data dir under the given base (the same disk as NyxDB's), etcd's default
// settings (one fsync per Raft batch, 100 ms heartbeat, 1 s election). Logs go to files
// in the data dir; stop() ends the members it started and removes the dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../common/free_port.js';

export interface EtcdMember {
  name: string;
  /** host:port of the client URL. */
  endpoint: string;
  child: ChildProcess;
}

export interface EtcdClusterOptions {
  /** The etcd binary (a path, or a name looked up on PATH). */
  binary: string;
  /** A directory to create the cluster's data dir in. */
  baseDir: string;
  size?: number;
}

export class EtcdCluster {
  readonly members: EtcdMember[] = [];

  private constructor(readonly dir: string) {}

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  get pids(): number[] {
    return this.members.map((m) => m.child.pid!).filter((p) => p !== undefined);
  }

  static async start(opts: EtcdClusterOptions): Promise<EtcdCluster> {
    const size = opts.size ?? 3;
    const cluster = new EtcdCluster(fs.mkdtempSync(path.join(opts.baseDir, 'etcd-')));
    const ports: { client: number; peer: number }[] = [];
    const taken = new Set<number>();
    while (ports.length < size) {
      const client = await freePort();
      const peer = await freePort();
      if (client === peer || taken.has(client) || taken.has(peer)) continue;
      taken.add(client).add(peer);
      ports.push({ client, peer });
    }
    const initial = ports.map((p, i) => `m${i + 1}=http://127.0.0.1:${p.peer}`).join(',');
    try {
      for (const [i, p] of ports.entries()) {
        const name = `m${i + 1}`;
        const clientUrl = `http://127.0.0.1:${p.client}`;
        const log = fs.openSync(path.join(cluster.dir, `${name}.log`), 'a');
        const child = spawn(
          opts.binary,
          [
            '--name',
            name,
            '--data-dir',
            path.join(cluster.dir, name),
            '--listen-client-urls',
            clientUrl,
            '--advertise-client-urls',
            clientUrl,
            '--listen-peer-urls',
            `http://127.0.0.1:${p.peer}`,
            '--initial-advertise-peer-urls',
            `http://127.0.0.1:${p.peer}`,
            '--initial-cluster',
            initial,
            '--initial-cluster-state',
            'new',
            '--initial-cluster-token',
            `bench-${process.pid}`,
            '--logger',
            'zap',
            '--log-outputs',
            'stderr',
          ],
          { stdio: ['ignore', log, log] },
        );
        fs.closeSync(log);
        cluster.members.push({ name, endpoint: `127.0.0.1:${p.client}`, child });
        child.once('error', () => undefined); // reported by the leader wait instead
      }
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** SIGTERM each member (SIGKILL after 5 s), then remove the data dir. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const c = m.child;
        if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }),
    );
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The etcd binary to run: `explicit` if given (must exist), else `etcd` on PATH.
 * Undefined when there is none; the benchmark installs nothing.
 */
export function findEtcd(
  explicit: string | undefined,
  envPath = process.env.PATH ?? '',
): string | undefined {
  const executable = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (explicit !== undefined) return executable(explicit) ? explicit : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'etcd');
    if (executable(p)) return p;
  }
  return undefined;
}
