// The throw-away playground a cluster benchmark starts (nyx bench compare, split,
// rebalance, regions): PD and N stores on 127.0.0.1, free ports, in a fresh directory under
// the bench's --data-dir, removed again by stop() — also when the user interrupts.
import fs from 'node:fs';
import path from 'node:path';
import { freePortRange } from '../common/free_port.js';
import { Playground } from '../server/playground.js';

export interface ThrowAwayClusterOptions {
  /** The directory the cluster's own directory is made in (the bench's --data-dir). */
  baseDir: string;
  /** The name prefix of that directory, e.g. 'nyx-bench-split-'. */
  prefix: string;
  stores: number;
  regions: number;
  splitKeys?: string[];
  storeArgs?: string[];
  readyTimeoutMs?: number;
  /** Ports to reserve beyond PD's and the stores' (extraPort(i) names them). */
  extraPorts?: number;
}

export class ThrowAwayCluster {
  private stopped = false;
  private keep = false;

  private constructor(
    readonly pg: Playground,
    readonly dir: string,
    private readonly firstExtraPort: number,
  ) {}

  /**
   * Makes the directory and starts the playground. The cluster is returned before it is
   * started only through `onCreated`, so that an interrupt during a long start (thousands
   * of Regions) can still stop it and remove the directory.
   */
  static async start(
    o: ThrowAwayClusterOptions,
    onCreated: (c: ThrowAwayCluster) => void = () => {},
  ): Promise<ThrowAwayCluster> {
    const dir = fs.mkdtempSync(path.join(o.baseDir, o.prefix));
    // PD: status, gRPC; then every store's gRPC port, then every store's status port.
    const base = await freePortRange(2 + 2 * o.stores + (o.extraPorts ?? 0));
    const pg = new Playground({
      dataDir: dir,
      stores: o.stores,
      regions: o.regions,
      ...(o.splitKeys ? { splitKeys: o.splitKeys } : {}),
      host: '127.0.0.1',
      pdStatusPort: base,
      pdPort: base + 1,
      storePort: base + 2,
      storeStatusPort: base + 2 + o.stores,
      clean: false,
      storeArgs: o.storeArgs ?? [],
      ...(o.readyTimeoutMs !== undefined ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
    });
    const cluster = new ThrowAwayCluster(pg, dir, base + 2 + 2 * o.stores);
    onCreated(cluster);
    try {
      await pg.start();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** The i-th extra port (0-based), on 127.0.0.1. */
  extraAddress(i: number): string {
    return `127.0.0.1:${this.firstExtraPort + i}`;
  }

  /** Keep the directory (logs, data) when stopped: for a run that failed. Returns it. */
  keepData(): string {
    this.keep = true;
    return this.dir;
  }

  /** Stops every process and removes the directory; once, however often it is called. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.pg.stop();
    } finally {
      if (!this.keep) fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Ctrl-C or SIGTERM during a bench stops its cluster and removes its data before the
 * process exits with 130, as a shell expects of an interrupted command.
 */
export function stopOnInterrupt(stop: () => Promise<void>): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void stop().finally(() => process.exit(130)));
  }
}
