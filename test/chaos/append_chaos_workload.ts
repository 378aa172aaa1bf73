// List-append under faults (Elle's workload, txn_workloads.ts listAppendTxn): many
// clients run short transactions that read lists and append unique values to them. At
// the end one more transaction reads every key; it joins the history, and
//   - the history has no G0, G1a, G1b, G1c or G-single (test/check/list_append), which
//     snapshot isolation forbids;
//   - every value a committed transaction appended is in that final read
//     (lost_appends.ts: no acknowledged commit lost).
// Transactions whose commit outcome is unknown are recorded as info, as Elle does: their
// appends may or may not show up.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BeginOptions } from '../../src/client/txn/transaction.js';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import type { Txn } from '../check/list_append/history.js';
import { SimRng } from '../sim/rng.js';
import { listAppendPlan, listAppendTxn, spreadKeys } from '../integration/txn_workloads.js';
import {
  AVAILABILITY_BOUND_MS,
  REGIONS,
  SDK_CLIENTS,
  type ChaosWorkload,
  type WorkloadVerdict,
} from './chaos_workload.js';
import { describeError } from './outcome.js';
import type { Failure } from './verify.js';
import { type AppendRecord, verifyAppend } from './txn_verdicts.js';
import { createChaosTxnClient, sleep } from './workload.js';

const KEYS = 8;
const TXN_WORKERS = 8;
const THINK_MS: [number, number] = [5, 25];

/** Loop w's kind of transaction: optimistic, async commit, or pessimistic, in turn. */
function loopMode(w: number): BeginOptions {
  switch (w % 3) {
    case 0:
      return {};
    case 1:
      return { asyncCommit: true };
    default:
      return { pessimistic: true };
  }
}

export class AppendChaosWorkload implements ChaosWorkload {
  readonly keys: string[];
  private readonly clients: TxnClient[];
  private running = false;
  private loops: Promise<void>[] = [];
  readonly history: Txn[] = [];
  private nextId = 0;
  private nextValue = 1;
  private beginFailed = 0;
  private readonly unexpected = new Map<string, number>();
  private finalReads: Map<string, number[]> | undefined;

  constructor(
    pd: string,
    private readonly seed: number,
  ) {
    this.keys = spreadKeys('list', KEYS, REGIONS);
    this.clients = Array.from({ length: SDK_CLIENTS }, () => createChaosTxnClient(pd));
  }

  describe(): string {
    return `append: ${TXN_WORKERS} transaction loops (2PC or 1PC, async commit, pessimistic) on ${SDK_CLIENTS} SDK clients, lists ${this.keys.join(' ')}`;
  }

  async setup(): Promise<void> {}

  start(): void {
    this.running = true;
    const seeds = new SimRng(this.seed);
    this.loops = Array.from({ length: TXN_WORKERS }, (_, w) =>
      this.loop(w, new SimRng(seeds.derive())),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  progress(): string {
    return `${this.history.filter((t) => t.status === 'ok').length} transactions ok`;
  }

  private async loop(w: number, rng: SimRng): Promise<void> {
    const client = this.clients[w % this.clients.length]!;
    while (this.running) {
      const plan = listAppendPlan(
        this.keys,
        () => rng.float(),
        () => this.nextValue++,
      );
      try {
        const r = await listAppendTxn(client, this.nextId++, plan, loopMode(w));
        this.history.push(r.txn);
        if (r.unexpected) {
          const name = r.unexpected.name;
          this.unexpected.set(name, (this.unexpected.get(name) ?? 0) + 1);
        }
      } catch {
        this.beginFailed++; // begin() found no timestamp (PD down): nothing was written
        await sleep(100);
      }
      await sleep(rng.int(THINK_MS[0], THINK_MS[1]));
    }
  }

  /** One transaction reading every key, retried until it commits or the bound passes. */
  private async readAll(): Promise<Map<string, number[]>> {
    const deadline = performance.now() + AVAILABILITY_BOUND_MS;
    const plan = this.keys.map((key) => ({ key, append: undefined }));
    for (;;) {
      let last: unknown;
      try {
        const r = await listAppendTxn(this.clients[0]!, this.nextId, plan, {});
        if (r.txn.status === 'ok') {
          this.nextId++;
          this.history.push(r.txn);
          return new Map(r.txn.ops.map((op) => [op.key, op.f === 'r' ? (op.value ?? []) : []]));
        }
        last = r.unexpected ?? r.txn.status;
      } catch (e) {
        last = e;
      }
      if (performance.now() > deadline) {
        throw new Error(
          `the final read failed for ${AVAILABILITY_BOUND_MS} ms: ${describeError(last)}`,
        );
      }
      await sleep(200);
    }
  }

  async verify(): Promise<WorkloadVerdict> {
    const failures: Failure[] = [];
    try {
      this.finalReads = await this.readAll();
    } catch (e) {
      failures.push({ check: 'availability', text: (e as Error).message });
    } finally {
      for (const c of this.clients) c.close();
    }
    const appendVerdict = verifyAppend(this.record());
    failures.push(...appendVerdict.failures);
    const count = (s: Txn['status']) => this.history.filter((t) => t.status === s).length;
    if (count('ok') < 5)
      failures.push({
        check: 'run',
        text: `the workload made almost no progress (${count('ok')} transactions)`,
      });
    const unexpected = [...this.unexpected].map(([n, c]) => `${n}×${c}`).join(', ');
    return {
      failures,
      summary: [
        `transactions: ${count('ok')} ok, ${count('fail')} failed, ${count('info')} unknown, ` +
          `${this.beginFailed} without a timestamp` +
          (unexpected ? `; errors no contract explains: ${unexpected}` : ''),
        appendVerdict.summary,
      ].join('\n'),
    };
  }

  keep(dir: string, rerun: string): void {
    fs.writeFileSync(
      path.join(dir, 'append-history.json'),
      JSON.stringify({ rerun, ...this.record() }, null, 1) + '\n',
    );
  }

  /** What the checks read, in the run or offline (check_history.ts). */
  private record(): AppendRecord {
    return {
      history: this.history,
      finalReads: this.finalReads ? Object.fromEntries(this.finalReads) : null,
    };
  }
}
