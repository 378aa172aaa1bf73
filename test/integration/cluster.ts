// Real clusters for integration tests: a PD and stores as separate `nyx` processes on
// 127.0.0.1 with free ports, real SQLite files in a temp dir, real gRPC.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRawClient } from '../../src/client/create_client.js';
import { PdClient } from '../../src/client/pd_client.js';
import type { RawClient } from '../../src/client/raw_client.js';
import { freePortRange } from '../../src/common/free_port.js';
import { Playground } from '../../src/server/playground.js';

export interface TestClusterOptions {
  stores?: number;
  regions?: number;
  storeArgs?: string[];
}

export class TestCluster {
  readonly clients: { close(): void }[] = [];

  private constructor(
    readonly pg: Playground,
    readonly dir: string,
  ) {}

  static async start(opts: TestClusterOptions = {}): Promise<TestCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-it-'));
    const stores = opts.stores ?? 3;
    const pdPort = await freePortRange(2);
    const storePort = await freePortRange(stores);
    const storeStatusPort = await freePortRange(stores);
    const pg = new Playground({
      dataDir: dir,
      stores,
      regions: opts.regions ?? 4,
      host: '127.0.0.1',
      pdPort: pdPort + 1,
      pdStatusPort: pdPort,
      storePort,
      storeStatusPort,
      clean: false,
      // Fast ticks so elections and failover take well under a second.
      storeArgs: ['--tick-ms', '50', ...(opts.storeArgs ?? [])],
    });
    await pg.start();
    return new TestCluster(pg, dir);
  }

  get pd(): string {
    return this.pg.pdEndpoint;
  }

  rawClient(): RawClient {
    const c = createRawClient({ pd: this.pd });
    this.clients.push(c);
    return c;
  }

  pdClient(): PdClient {
    const c = PdClient.connect(this.pd);
    this.clients.push(c);
    return c;
  }

  storeNames(): string[] {
    return this.pg.processes.filter((p) => p.name.startsWith('store')).map((p) => p.name);
  }

  async status(name: string): Promise<StoreStatus> {
    const res = await fetch(`http://${this.pg.process(name).status}/status`);
    return (await res.json()) as StoreStatus;
  }

  async metric(name: string, metric: string): Promise<number> {
    const res = await fetch(`http://${this.pg.process(name).status}/metrics`);
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  /** The playground process name of the store with this id. */
  async nameOfStore(storeId: number): Promise<string> {
    for (const name of this.storeNames()) {
      const p = this.pg.process(name);
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      if ((await this.status(name)).store === storeId) return name;
    }
    throw new Error(`no running store with id ${storeId}`);
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.pg.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface StoreStatus {
  store: number;
  ready: boolean;
  regions: number;
  leaders: number;
  peers: {
    region: number;
    role: string;
    term: number;
    commit: number;
    applied: number;
    leader: number | null;
  }[];
}

export async function eventually<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Writers that put unique keys until stopped; returns the acknowledged ones. */
export function writeLoad(
  client: RawClient,
  prefix: string,
  writers: number,
): { stop: () => Promise<Map<string, string>>; acked: Map<string, string>; errors: Error[] } {
  const acked = new Map<string, string>();
  const errors: Error[] = [];
  let running = true;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; running; i++) {
      // The first character spreads writers over the playground's Regions.
      const key = `${String.fromCharCode(0x30 + ((w * 11) % 75))}${prefix}-${w}-${i}`;
      const value = `v-${w}-${i}`;
      try {
        await client.put(Buffer.from(key), Buffer.from(value));
        acked.set(key, value);
      } catch (e) {
        errors.push(e as Error);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    acked,
    errors,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return acked;
    },
  };
}
