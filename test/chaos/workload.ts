// Many concurrent clients doing get / put / delete / cas on a small key set that spans
// every Region. Each worker is one sequential logical client; workers share a few SDK
// clients (RawClient instances, each with its own PD client, region cache and store
// connections). Every written value is unique (`w<worker>.<n>`), which keeps the
// checker's search narrow and makes a lost write name itself. CAS expects the value the
// worker last saw for the key (often still current, so many CAS succeed), or absence.
import { createRawClient, createTxnClient } from '../../src/client/create_client.js';
import type { RawClient } from '../../src/client/raw_client.js';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import { playgroundSplitKeys } from '../../src/server/playground.js';
import type { KvInput, Value } from '../check/history.js';
import { SimRng } from '../sim/rng.js';
import type { HistoryRecorder } from './recorder.js';

/** Per-call and per-attempt deadlines: short, so a fault yields indeterminate ops quickly. */
export const CLIENT_TIMEOUT_MS = 5000;
export const CLIENT_RPC_TIMEOUT_MS = 2000;

/** `perRegion` keys in each Region of a playground cut into `regions` Regions. */
export function workloadKeys(regions: number, perRegion: number): string[] {
  const starts = ['0', ...playgroundSplitKeys(regions)];
  return starts.flatMap((c) => Array.from({ length: perRegion }, (_, j) => `${c}chaos${j}`));
}

export function createChaosClient(pd: string): RawClient {
  return createRawClient({ pd, timeoutMs: CLIENT_TIMEOUT_MS, rpcTimeoutMs: CLIENT_RPC_TIMEOUT_MS });
}

/** A TxnClient with the same short deadlines: a fault yields an unknown commit quickly. */
export function createChaosTxnClient(pd: string): TxnClient {
  return createTxnClient({ pd, timeoutMs: CLIENT_TIMEOUT_MS, rpcTimeoutMs: CLIENT_RPC_TIMEOUT_MS });
}

export interface WorkloadOptions {
  pd: string;
  keys: string[];
  workers: number;
  sdkClients: number;
  seed: number;
  /** Pause between a worker's operations, drawn from [min, max] ms. */
  thinkMs: [number, number];
}

export class Workload {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly clients: RawClient[];
  /** The last value any worker saw or wrote per key: what CAS most often expects. */
  private readonly lastSeen = new Map<string, Value>();

  constructor(
    private readonly o: WorkloadOptions,
    private readonly recorder: HistoryRecorder,
  ) {
    this.clients = Array.from({ length: o.sdkClients }, () => createChaosClient(o.pd));
  }

  start(): void {
    this.running = true;
    const seeds = new SimRng(this.o.seed);
    this.loops = Array.from({ length: this.o.workers }, (_, w) =>
      this.worker(w, new SimRng(seeds.derive())),
    );
  }

  /** Lets every worker finish its operation in flight, then closes the SDK clients. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const c of this.clients) c.close();
  }

  private async worker(w: number, rng: SimRng): Promise<void> {
    const kv = this.clients[w % this.clients.length]!;
    let client = this.recorder.newClient();
    for (let n = 0; this.running; n++) {
      const input = this.nextInput(rng, `w${w}.${n}`);
      const out = await this.recorder.invoke(client, kv, input);
      if (out === undefined && input.f !== 'get') {
        // Indeterminate (or never sent): the old identity keeps an op that never returned.
        client = this.recorder.newClient();
      }
      if (out?.f === 'get') this.lastSeen.set(input.key, out.value);
      if (out?.f === 'cas' && input.f === 'cas') {
        this.lastSeen.set(input.key, out.succeeded ? input.value : out.previous);
      }
      if (out?.f === 'put' && input.f === 'put') this.lastSeen.set(input.key, input.value);
      if (out?.f === 'delete') this.lastSeen.set(input.key, null);
      await sleep(rng.int(this.o.thinkMs[0], this.o.thinkMs[1]));
    }
  }

  private nextInput(rng: SimRng, value: string): KvInput {
    const key = rng.pick(this.o.keys);
    switch (rng.weighted({ get: 4, put: 3, cas: 2, delete: 1 })) {
      case 'get':
        return { f: 'get', key };
      case 'put':
        return { f: 'put', key, value };
      case 'delete':
        return { f: 'delete', key };
      default:
        return {
          f: 'cas',
          key,
          expected: rng.chance(0.2) ? null : (this.lastSeen.get(key) ?? null),
          value,
        };
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
