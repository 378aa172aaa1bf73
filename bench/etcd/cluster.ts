// A throwaway 3-member etcd cluster on 127.0.0.1 for the reference benchmark: free ports,
// a temp data dir, etcd's default settings (one fsync per raft batch, 100 ms heartbeat,
// 1 s election). Logs go to files in the data dir; stop() kills the members it started
// and removes the dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/common/free_port.js';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  /** host:port for gRPC. */
  endpoint: string;
  child: ChildProcess;
}

export class EtcdCluster {
  readonly members: EtcdMember[] = [];

  private constructor(readonly dir: string) {}

  static async start(opts: { size?: number; binary?: string } = {}): Promise<EtcdCluster> {
    const size = opts.size ?? 3;
    const bin = opts.binary ?? process.env.ETCD_BIN ?? 'etcd';
    const cluster = new EtcdCluster(fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-ref-')));
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
          bin,
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
        cluster.members.push({ name, clientUrl, endpoint: `127.0.0.1:${p.client}`, child });
        child.once('error', () => undefined); // reported by the health wait instead
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
