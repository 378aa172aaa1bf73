// The bank under faults: accounts spread over every Region, transfers between random
// pairs from many clients (2PC and async commit), and a reader taking snapshot reads of
// every account throughout. Each transfer also writes a record of itself in the same
// transaction (txn_workloads.ts transfer()), so the end of the run can tell which
// transfers committed and check (test/check/bank.ts):
//   - every snapshot read saw the initial total;
//   - no acknowledged transfer lost, none reported as failed committed;
//   - the final balances are the initial ones moved by exactly the recorded transfers.
// A commit whose outcome the client could not know (CommitUndeterminedError) may go
// either way: its record says which it went.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runInTransaction } from '../../src/client/txn/run_in_transaction.js';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import {
  CommitUndeterminedError,
  DeadlockError,
  TxnAbortedError,
  WriteConflictError,
} from '../../src/client/txn/txn_errors.js';
import type { BankTransfer } from '../check/bank.js';
import { SimRng } from '../sim/rng.js';
import {
  pickTransfer,
  readBankSnapshot,
  spreadKeys,
  transfer,
} from '../integration/txn_workloads.js';
import {
  AVAILABILITY_BOUND_MS,
  REGIONS,
  SDK_CLIENTS,
  type ChaosWorkload,
  type WorkloadVerdict,
} from './chaos_workload.js';
import { describeError } from './outcome.js';
import type { Failure } from './verify.js';
import { type BankRecord, verifyBank } from './txn_verdicts.js';
import { createChaosTxnClient, sleep } from './workload.js';

const ACCOUNTS = 8;
const INITIAL_BALANCE = 100;
/** Transfer loops: fewer than the RawKV workload's clients, each a whole transaction. */
const TRANSFER_WORKERS = 8;
const THINK_MS: [number, number] = [5, 25];
const READ_PAUSE_MS = 50;
/** Records read back per snapshot batchGet at the end. */
const RECORD_BATCH = 256;

/** A transfer's record: next to its source account (so usually in the same Region). */
const recordKey = (from: string, id: string) => `${from}/transfer/${id}`;

export class BankChaosWorkload implements ChaosWorkload {
  readonly keys: string[];
  private readonly clients: TxnClient[];
  private readonly reader: TxnClient;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly transfers: BankTransfer[] = [];
  private readonly stats = { noop: 0, beginFailed: 0, reads: 0, failedReads: 0 };
  /** Error name → count, for errors no fault or contract explains. */
  private readonly unexpected = new Map<string, number>();
  private readonly badTotals: { ts: string; total: number; balances: number[] }[] = [];
  private final: BankRecord['final'] | undefined;

  constructor(
    pd: string,
    private readonly seed: number,
  ) {
    this.keys = spreadKeys('acct', ACCOUNTS, REGIONS);
    this.clients = Array.from({ length: SDK_CLIENTS }, () => createChaosTxnClient(pd));
    this.reader = createChaosTxnClient(pd);
  }

  describe(): string {
    return (
      `bank: ${ACCOUNTS} accounts of ${INITIAL_BALANCE} (${this.keys.join(' ')}), ` +
      `${TRANSFER_WORKERS} transfer loops on ${SDK_CLIENTS} SDK clients, one snapshot reader`
    );
  }

  async setup(): Promise<void> {
    await runInTransaction(this.clients[0]!, async (txn) => {
      for (const a of this.keys) await txn.put(a, String(INITIAL_BALANCE));
    });
  }

  start(): void {
    this.running = true;
    const seeds = new SimRng(this.seed);
    this.loops = [
      ...Array.from({ length: TRANSFER_WORKERS }, (_, w) =>
        this.transferLoop(w, new SimRng(seeds.derive())),
      ),
      this.readLoop(),
    ];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  progress(): string {
    const ok = this.transfers.filter((t) => t.status === 'ok').length;
    return `${ok} transfers ok, ${this.stats.reads} snapshot reads`;
  }

  private countUnexpected(e: unknown): void {
    const name = e instanceof Error ? e.name : typeof e;
    this.unexpected.set(name, (this.unexpected.get(name) ?? 0) + 1);
  }

  private async transferLoop(w: number, rng: SimRng): Promise<void> {
    const client = this.clients[w % this.clients.length]!;
    for (let n = 0; this.running; n++) {
      const id = `w${w}.${n}`;
      const { from, to, amount } = pickTransfer(this.keys, () => rng.float());
      let txn;
      try {
        txn = await client.begin({ asyncCommit: w % 2 === 1 });
      } catch {
        this.stats.beginFailed++; // no timestamp (PD down): nothing was written
        await sleep(100);
        continue;
      }
      const t: BankTransfer = { id, from, to, amount, status: 'info' };
      try {
        const record = { key: recordKey(from, id), value: JSON.stringify({ from, to, amount }) };
        if (!(await transfer(txn, from, to, amount, record))) {
          await txn.rollback();
          this.stats.noop++;
          continue;
        }
        await txn.commit();
        t.status = 'ok';
      } catch (e) {
        const definite =
          e instanceof WriteConflictError ||
          e instanceof TxnAbortedError ||
          e instanceof DeadlockError;
        // Still active: a read or the write buffer failed before commit began.
        if (definite || txn.state === 'active') t.status = 'fail';
        if (txn.state === 'active') await txn.rollback().catch(() => {});
        // Unknown outcomes stay info; an error neither definite nor CommitUndetermined is
        // also kept as info (the safe side) and counted.
        if (t.status === 'info' && !(e instanceof CommitUndeterminedError)) this.countUnexpected(e);
      }
      this.transfers.push(t);
      await sleep(rng.int(THINK_MS[0], THINK_MS[1]));
    }
  }

  private async readLoop(): Promise<void> {
    const total = ACCOUNTS * INITIAL_BALANCE;
    while (this.running) {
      try {
        const snap = await readBankSnapshot(this.reader, this.keys);
        this.stats.reads++;
        if (snap.total !== total) this.badTotals.push({ ...snap, ts: String(snap.ts) });
      } catch {
        this.stats.failedReads++; // a failed read changed nothing
      }
      await sleep(READ_PAUSE_MS);
    }
  }

  /** Retries `fn` (reads only) until it succeeds or the availability bound passes. */
  private async finalRead<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + AVAILABILITY_BOUND_MS;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (performance.now() > deadline) {
          throw new Error(`${what} failed for ${AVAILABILITY_BOUND_MS} ms: ${describeError(e)}`);
        }
        await sleep(200);
      }
    }
  }

  async verify(): Promise<WorkloadVerdict> {
    const failures: Failure[] = [];
    try {
      this.final = await this.readFinal();
    } catch (e) {
      failures.push({ check: 'availability', text: `final reads: ${(e as Error).message}` });
    } finally {
      for (const c of [...this.clients, this.reader]) c.close();
    }
    const bank = verifyBank(this.record());
    failures.push(...bank.failures);
    const ok = this.transfers.filter((t) => t.status === 'ok').length;
    const info = this.transfers.filter((t) => t.status === 'info').length;
    const failed = this.transfers.length - ok - info;
    if (ok < 5)
      failures.push({
        check: 'run',
        text: `the workload made almost no progress (${ok} transfers)`,
      });
    const unexpected = [...this.unexpected].map(([n, c]) => `${n}×${c}`).join(', ');
    return {
      failures,
      summary: [
        `transfers: ${ok} ok, ${failed} failed, ${info} unknown (${bank.infoCommitted} of them committed), ` +
          `${this.stats.noop} without funds, ${this.stats.beginFailed} without a timestamp` +
          (unexpected ? `; errors no contract explains: ${unexpected}` : ''),
        `snapshot reads: ${this.stats.reads} (${this.stats.failedReads} failed), ${bank.summary}`,
      ].join('\n'),
    };
  }

  /**
   * Everything at one snapshot after the faults: the balances and which transfers' records
   * are there (an acknowledged one's must be, a definitely failed one's must not).
   */
  private async readFinal(): Promise<NonNullable<BankRecord['final']>> {
    const ts = await this.finalRead('a timestamp', () => this.reader.getTimestamp());
    const snap = this.reader.snapshot(ts);
    const balances = await this.finalRead('the final balances', () =>
      snap.batchGet(this.keys.map((k) => Buffer.from(k))),
    );
    const recorded: string[] = [];
    for (let i = 0; i < this.transfers.length; i += RECORD_BATCH) {
      const batch = this.transfers.slice(i, i + RECORD_BATCH);
      const got = await this.finalRead('the transfer records', () =>
        snap.batchGet(batch.map((t) => Buffer.from(recordKey(t.from, t.id)))),
      );
      for (const t of batch) {
        if (got.has(Buffer.from(recordKey(t.from, t.id)).toString('hex'))) recorded.push(t.id);
      }
    }
    return {
      balances: Object.fromEntries(
        this.keys.map((k) => [
          k,
          Number(balances.get(Buffer.from(k).toString('hex'))?.toString() ?? NaN),
        ]),
      ),
      recorded,
    };
  }

  /** What the checks read, in the run or offline (check_history.ts). */
  private record(): BankRecord {
    return {
      accounts: this.keys,
      initialBalance: INITIAL_BALANCE,
      transfers: this.transfers,
      badTotals: this.badTotals,
      final: this.final ?? null,
    };
  }

  keep(dir: string, rerun: string): void {
    fs.writeFileSync(
      path.join(dir, 'bank-history.json'),
      JSON.stringify({ rerun, ...this.record() }, null, 1) + '\n',
    );
  }
}
