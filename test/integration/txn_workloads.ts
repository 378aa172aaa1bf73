// Transaction workloads for the real-process tests: the bank (transfers between accounts
// spread over Regions, whose total never changes under snapshot isolation) and
// list-append (Elle's workload; the history goes to test/check/list_append).
import { playgroundSplitKeys } from '../../src/server/playground.js';
import type { BeginOptions, Transaction } from '../../src/client/txn/transaction.js';
import type { TxnClient } from '../../src/client/txn/txn_client.js';
import { runInTransaction } from '../../src/client/txn/run_in_transaction.js';
import {
  CommitUndeterminedError,
  TxnAbortedError,
  WriteConflictError,
} from '../../src/client/txn/txn_errors.js';
import type { MicroOp, Txn } from '../check/list_append/history.js';

/** n keys named so that consecutive ones fall in different Regions of the playground's split. */
export function spreadKeys(prefix: string, n: number, regions: number): string[] {
  const splits = playgroundSplitKeys(regions);
  // One lead character per Region: the first split key's predecessor, then each split key.
  const leads = [String.fromCharCode(splits[0]!.charCodeAt(0) - 1), ...splits];
  return Array.from({ length: n }, (_, i) => `${leads[i % leads.length]}${prefix}-${i}`);
}

export interface BankResult {
  transfers: number;
  conflicts: number;
  /** Transfers definitely aborted (rolled back by others after their TTL). */
  aborted: number;
  reads: number;
  /** Totals seen by snapshot reads that differ from the expected one. */
  badTotals: { ts: bigint; total: number; balances: number[] }[];
  errors: Error[];
}

/**
 * How long a workload runs: at least minMs and until it made the progress asked for (so
 * that a slow machine still checks enough), but never past maxMs.
 */
export interface RunLength {
  minMs: number;
  maxMs: number;
}

function runUntil(len: RunLength, enough: () => boolean): () => boolean {
  const start = Date.now();
  return () => {
    const t = Date.now() - start;
    return t < len.maxMs && (t < len.minMs || !enough());
  };
}

/** A source of uniform numbers in [0, 1): Math.random, or a seeded generator's float. */
export type Random = () => number;

/** Two different accounts and an amount of 1-5. */
export function pickTransfer(
  accounts: readonly string[],
  random: Random,
): { from: string; to: string; amount: number } {
  const from = accounts[Math.floor(random() * accounts.length)]!;
  let to = accounts[Math.floor(random() * accounts.length)]!;
  if (to === from) to = accounts[(accounts.indexOf(from) + 1) % accounts.length]!;
  return { from, to, amount: 1 + Math.floor(random() * 5) };
}

/**
 * The body of one bank transfer inside `txn`: read both balances, move `amount` if `from`
 * has it. With `record`, the same transaction also writes that key (a ledger entry of the
 * transfer), so whether the transfer committed can be read back later. Returns false
 * (nothing written) when `from` lacks the money.
 */
export async function transfer(
  txn: Transaction,
  from: string,
  to: string,
  amount: number,
  record?: { key: string; value: string },
): Promise<boolean> {
  const got = await txn.batchGet([from, to]);
  const a = Number(got.get(from)!.toString());
  const b = Number(got.get(to)!.toString());
  if (a < amount) return false;
  await txn.put(from, String(a - amount));
  await txn.put(to, String(b + amount));
  if (record) await txn.put(record.key, record.value);
  return true;
}

/** Every account read at one snapshot (a fresh timestamp), and their sum. */
export async function readBankSnapshot(
  reader: TxnClient,
  accounts: readonly string[],
): Promise<{ ts: bigint; total: number; balances: number[] }> {
  const ts = await reader.getTimestamp();
  const got = await reader.snapshot(ts).batchGet(accounts.map((a) => Buffer.from(a)));
  // A missing account reads as NaN: a wrong total, not an error a caller might drop.
  const balances = accounts.map((a) =>
    Number(got.get(Buffer.from(a).toString('hex'))?.toString() ?? NaN),
  );
  return { ts, total: balances.reduce((x, y) => x + y, 0), balances };
}

/**
 * Transfers between random accounts from `clients` in parallel, `workersPerClient`
 * loops each, while a reader reads every account at one snapshot, until at least
 * `want` transfers and reads were done.
 */
export async function runBank(
  clients: TxnClient[],
  reader: TxnClient,
  accounts: string[],
  total: number,
  len: RunLength,
  want: { transfers: number; reads: number },
  workersPerClient = 2,
): Promise<BankResult> {
  const res: BankResult = {
    transfers: 0,
    conflicts: 0,
    aborted: 0,
    reads: 0,
    badTotals: [],
    errors: [],
  };
  const running = runUntil(len, () => res.transfers >= want.transfers && res.reads >= want.reads);
  const worker = async (client: TxnClient, w: number): Promise<void> => {
    while (running()) {
      const { from, to, amount } = pickTransfer(accounts, Math.random);
      try {
        await runInTransaction(client, (txn) => transfer(txn, from, to, amount), {
          retries: 0,
          asyncCommit: w % 2 === 1,
        });
        res.transfers++;
      } catch (e) {
        if (e instanceof WriteConflictError) res.conflicts++;
        // Definitely not committed: its locks outlived their TTL while it waited behind
        // another transaction's lock, and a reader rolled it back (Percolator §2.2). Such
        // a transfer moves no money; the totals below check that.
        else if (e instanceof TxnAbortedError) res.aborted++;
        else res.errors.push(e as Error);
      }
    }
  };
  const read = async (): Promise<void> => {
    while (running()) {
      const snap = await readBankSnapshot(reader, accounts);
      res.reads++;
      if (snap.total !== total) res.badTotals.push(snap);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await Promise.all([
    ...clients.flatMap((c) => Array.from({ length: workersPerClient }, (_, w) => worker(c, w))),
    read(),
  ]);
  return res;
}

/** One planned micro-operation: read `key`, or append `append` to it. */
export interface PlannedOp {
  key: string;
  append: number | undefined;
}

/** 1-4 micro-operations, each a read or (half the time) an append of a fresh value. */
export function listAppendPlan(
  keys: readonly string[],
  random: Random,
  nextValue: () => number,
): PlannedOp[] {
  return Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({
    key: keys[Math.floor(random() * keys.length)]!,
    append: random() < 0.5 ? nextValue() : undefined,
  }));
}

/**
 * Runs one planned list-append transaction (an append is a read-modify-write of a JSON
 * list) and says what the history must record: ok (committed, with its reads), fail
 * (definitely not committed: a conflict, an abort, or it never reached commit), info
 * (unknown: its appends may or may not have happened). `unexpected` is an error no
 * contract explains (neither definite nor CommitUndeterminedError); it is recorded as info.
 * `cause` is the error that ended a transaction that did not commit.
 */
export async function listAppendTxn(
  client: TxnClient,
  id: number,
  plan: readonly PlannedOp[],
  options: BeginOptions,
): Promise<{ txn: Txn; unexpected?: Error; cause?: Error }> {
  const ops: MicroOp[] = [];
  const txn = await client.begin(options);
  try {
    for (const p of plan) {
      const raw = await txn.get(p.key);
      const list = raw ? (JSON.parse(raw.toString()) as number[]) : [];
      if (p.append === undefined) {
        ops.push({ f: 'r', key: p.key, value: list });
      } else {
        await txn.put(p.key, JSON.stringify([...list, p.append]));
        ops.push({ f: 'append', key: p.key, value: p.append });
      }
    }
    await txn.commit();
    return { txn: { id, status: 'ok', ops } };
  } catch (e) {
    // The plan's appends were never seen by anyone if it aborted; its reads say nothing.
    const appends = plan
      .filter((p) => p.append !== undefined)
      .map((p): MicroOp => ({ f: 'append', key: p.key, value: p.append! }));
    const definite = e instanceof WriteConflictError || e instanceof TxnAbortedError;
    // Still active: a read failed before commit began, so nothing was written.
    const neverCommitted = definite || txn.state === 'active';
    if (txn.state === 'active') await txn.rollback().catch(() => {});
    const unexpected =
      !neverCommitted && !(e instanceof CommitUndeterminedError) ? (e as Error) : undefined;
    return {
      txn: { id, status: neverCommitted ? 'fail' : 'info', ops: appends },
      ...(unexpected ? { unexpected } : {}),
      cause: e as Error,
    };
  }
}

/**
 * List-append transactions from `workers` loops over `keys` for `ms`: each transaction
 * does 1-4 micro-operations (read a key's list, or append a unique value to it as a
 * read-modify-write of a JSON list). Returns the history with each outcome: ok
 * (committed), fail (definitely aborted: conflict, abort), info (unknown).
 */
export async function runListAppend(
  client: TxnClient,
  keys: string[],
  workers: number,
  len: RunLength,
  wantCommitted: number,
  asyncCommit = false,
  unexpected: Error[] = [],
): Promise<Txn[]> {
  const history: Txn[] = [];
  let nextId = 0;
  let nextValue = 1;
  let committed = 0;
  const running = runUntil(len, () => committed >= wantCommitted);
  const worker = async (): Promise<void> => {
    while (running()) {
      const plan = listAppendPlan(keys, Math.random, () => nextValue++);
      const { txn, unexpected: error } = await listAppendTxn(client, nextId++, plan, {
        asyncCommit,
      });
      if (txn.status === 'ok') committed++;
      if (error) unexpected.push(error);
      history.push(txn);
    }
  };
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return history;
}
