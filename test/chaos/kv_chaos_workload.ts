// The RawKV workload of a chaos run: many clients doing get/put/delete/cas (workload.ts)
// recorded as a history (recorder.ts); at the end each key is read until a read succeeds,
// and the history is checked for linearizability per key and for lost writes (verify.ts).
// Splits do not change the check: a key's history is one history whichever Region
// served each operation.
import { performance } from 'node:perf_hooks';
import type { Value } from '../check/history.js';
import { SimRng } from '../sim/rng.js';
import {
  AVAILABILITY_BOUND_MS,
  REGIONS,
  SDK_CLIENTS,
  WORKERS,
  type ChaosWorkload,
  type WorkloadVerdict,
} from './chaos_workload.js';
import { writeHistoryFile } from './history_file.js';
import { HistoryRecorder } from './recorder.js';
import { verifyHistory, type Failure } from './verify.js';
import { Workload, createChaosClient, sleep, workloadKeys } from './workload.js';
import path from 'node:path';

const KEYS_PER_REGION = 3;
const THINK_MS: [number, number] = [5, 25];

export class KvChaosWorkload implements ChaosWorkload {
  readonly keys: string[];
  private readonly recorder: HistoryRecorder;
  private readonly workload: Workload;
  private readonly finalReads = new Map<string, Value>();

  constructor(
    private readonly pd: string,
    seed: number,
    t0: number,
  ) {
    this.keys = workloadKeys(REGIONS, KEYS_PER_REGION);
    this.recorder = new HistoryRecorder(t0);
    this.workload = new Workload(
      {
        pd,
        keys: this.keys,
        workers: WORKERS,
        sdkClients: SDK_CLIENTS,
        seed: new SimRng(seed).derive(),
        thinkMs: THINK_MS,
      },
      this.recorder,
    );
  }

  describe(): string {
    return `rawkv: ${WORKERS} clients on ${SDK_CLIENTS} SDK clients, keys ${this.keys.join(' ')}`;
  }

  async setup(): Promise<void> {}

  start(): void {
    this.workload.start();
  }

  stop(): Promise<void> {
    return this.workload.stop();
  }

  progress(): string {
    return `${this.recorder.stats.ok} ops ok`;
  }

  async verify(): Promise<WorkloadVerdict> {
    const failures: Failure[] = [];
    // The final reads join the history: once every fault healed, each key is read until
    // a read succeeds, which is what "no acknowledged write lost" is judged on.
    const reader = createChaosClient(this.pd);
    const client = this.recorder.newClient();
    const deadline = performance.now() + AVAILABILITY_BOUND_MS;
    try {
      for (const key of this.keys) {
        for (;;) {
          const out = await this.recorder.invoke(client, reader, { f: 'get', key });
          if (out?.f === 'get') {
            this.finalReads.set(key, out.value);
            break;
          }
          if (performance.now() > deadline) {
            failures.push({
              check: 'availability',
              text: `final read of ${key} failed for ${AVAILABILITY_BOUND_MS} ms`,
            });
            break;
          }
          await sleep(100);
        }
      }
    } finally {
      reader.close();
    }
    const s = this.recorder.stats;
    if (s.ok < this.keys.length * 2) {
      failures.push({ check: 'run', text: `the workload made almost no progress (${s.ok} ops)` });
    }
    const verdict = verifyHistory(this.recorder.ops, this.finalReads);
    failures.push(...verdict.failures);
    const unexpected = [...s.unexpected].map(([n, c]) => `${n}×${c}`).join(', ');
    return {
      failures,
      summary: [
        `ops: ${s.ok} ok, ${s.indeterminate} indeterminate, ${s.failedReads} failed reads dropped` +
          (unexpected ? `; errors no fault explains: ${unexpected}` : ''),
        verdict.summary,
      ].join('\n'),
    };
  }

  keep(dir: string, rerun: string): void {
    writeHistoryFile(path.join(dir, 'history.json'), {
      rerun,
      ops: this.recorder.ops,
      finalReads: Object.fromEntries(this.finalReads),
    });
  }
}
