// Real clusters for integration tests: a PD and stores as separate `nyx` processes on
// 127.0.0.1 with free ports, real SQLite files in a temp dir, real gRPC.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createRawClient } from '../../src/client/create_client.js';
import { PdClient } from '../../src/client/pd_client.js';
import type { RawClient } from '../../src/client/raw_client.js';
import { freePortRange } from '../../src/common/free_port.js';
import { Playground, type PlaygroundProcess } from '../../src/server/playground.js';

export interface TestClusterOptions {
  stores?: number;
  regions?: number;
  storeArgs?: string[];
  /** Data dir (default: a fresh temp dir); removed by stop(). */
  dir?: string;
  pdArgs?: string[];
  /** Start every process with --allow-failpoints. */
  allowFailpoints?: boolean;
  /** Mutual TLS everywhere (the playground's throw-away certificates). */
  tls?: boolean;
  /** The stores' Raft tick (default 50 ms: elections and failover well under a second). */
  tickMs?: number;
}

export class TestCluster {
  readonly clients: { close(): void }[] = [];

  private constructor(
    readonly pg: Playground,
    readonly dir: string,
  ) {}

  static async start(opts: TestClusterOptions = {}): Promise<TestCluster> {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-it-'));
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
      storeArgs: ['--tick-ms', String(opts.tickMs ?? 50), ...(opts.storeArgs ?? [])],
      pdArgs: opts.pdArgs ?? [],
      allowFailpoints: opts.allowFailpoints ?? false,
      tls: opts.tls ?? false,
    });
    await pg.start();
    return new TestCluster(pg, dir);
  }

  get pd(): string {
    return this.pg.pdEndpoint;
  }

  rawClient(): RawClient {
    const certs = this.pg.certs;
    const c = createRawClient({
      pd: this.pd,
      ...(certs ? { tls: { ca: certs.ca, ...certs.client } } : {}),
    });
    this.clients.push(c);
    return c;
  }

  pdClient(): PdClient {
    const c = PdClient.connect(this.pd);
    this.clients.push(c);
    return c;
  }

  /**
   * Stops PD from moving leaders or replicas and from merging: for tests that address one
   * Region's leader by hand. The replica checker still repairs.
   */
  async holdPlacement(): Promise<void> {
    const pd = this.pdClient();
    for (const kind of ['leader', 'region', 'merge', 'hot-region'])
      await pd.setConfig(`${kind}-schedule-limit`, '0');
  }

  storeNames(): string[] {
    return this.pg.processes.filter((p) => p.name.startsWith('store')).map((p) => p.name);
  }

  async status(name: string): Promise<StoreStatus> {
    return JSON.parse(await this.statusPage(name, '/status')) as StoreStatus;
  }

  /** A status page of a process, over HTTPS with the client certificate under TLS. */
  async statusPage(name: string, page: string): Promise<string> {
    const addr = this.pg.process(name).status;
    const certs = this.pg.certs;
    if (!certs) return (await fetch(`http://${addr}${page}`)).text();
    const read = (f: string) => fs.readFileSync(f);
    return new Promise((resolve, reject) => {
      https
        .get(
          `https://${addr}${page}`,
          { ca: read(certs.ca), cert: read(certs.client.cert), key: read(certs.client.key) },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve(body));
          },
        )
        .on('error', reject);
    });
  }

  async metric(name: string, metric: string): Promise<number> {
    const text = await this.statusPage(name, '/metrics');
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

  /** Set a failpoint on a process (a store or 'pd') through its status port. */
  async setFailpoint(name: string, failpoint: string, action: string): Promise<void> {
    const res = await fetch(`http://${this.pg.process(name).status}/failpoints/${failpoint}`, {
      method: 'PUT',
      body: action,
    });
    if (res.status !== 200)
      throw new Error(`PUT ${failpoint}=${action} on ${name}: ${res.status} ${await res.text()}`);
  }

  async removeFailpoint(name: string, failpoint: string): Promise<void> {
    const res = await fetch(`http://${this.pg.process(name).status}/failpoints/${failpoint}`, {
      method: 'DELETE',
    });
    if (res.status !== 200)
      throw new Error(`DELETE ${failpoint} on ${name}: ${res.status} ${await res.text()}`);
  }

  /** Cut (or with heal, restore) what store `from` sends to each store in `to`. */
  async dropMessages(from: string, to: number[], heal = false): Promise<void> {
    for (const id of to) {
      if (heal) await this.removeFailpoint(from, `transport_drop_to_store_${id}`);
      else await this.setFailpoint(from, `transport_drop_to_store_${id}`, 'return');
    }
  }

  /**
   * Start a stopped store again with its usual flags plus `extraArgs`. Resolves with the
   * process once it is ready, or once it has exited (a failpoint may end it sooner).
   */
  async startStore(name: string, extraArgs: string[] = []): Promise<PlaygroundProcess> {
    const i = Number(name.replace(/^store/, '')) - 1;
    try {
      return await this.pg.restart(name, [...this.pg.storeArgs(i), ...extraArgs]);
    } catch (e) {
      const p = this.pg.process(name);
      if (p.child.exitCode === null && p.child.signalCode === null) throw e;
      return p;
    }
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
