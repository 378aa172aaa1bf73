// The transactional benchmark workloads (`nyx bench txn`), each one operation as an
// application would write it with the SDK:
//
//   1pc                   transfer between two accounts of ONE Region: one Raft write
//   transfer-2pc          two accounts in two Regions, classic 2PC (prewrite, commit)
//   transfer-async        the same with async commit (done once the prewrites are)
//   transfer-pessimistic  the same in a pessimistic transaction (locks at write time)
//   snapshot-read         read both accounts of a cross-Region pair at one snapshot
//   raw-put               one RawKV put of an account key: the yardstick
//
// A transfer reads both balances and writes both (values of --value-size bytes); the
// path a commit took is counted, so a "1pc" run that fell back to 2PC shows it.
import type { RawClient } from '../client/raw_client.js';
import type { TxnClient } from '../client/txn/txn_client.js';
import type { BeginOptions } from '../client/txn/transaction.js';
import { crossRegionPair, sameRegionPair, type AccountLayout } from './accounts.js';
import type { BenchOperation } from './op_runner.js';

export const TXN_WORKLOADS = [
  '1pc',
  'transfer-2pc',
  'transfer-async',
  'transfer-pessimistic',
  'snapshot-read',
  'raw-put',
] as const;
export type TxnWorkloadName = (typeof TXN_WORKLOADS)[number];

export interface TxnWorkloadDeps {
  txn: TxnClient;
  raw: RawClient;
  accounts: AccountLayout;
  value: () => Buffer;
  /** Commit paths taken, counted. */
  paths: Record<string, number>;
}

async function transfer(
  d: TxnWorkloadDeps,
  [a, b]: [Buffer, Buffer],
  opts: BeginOptions,
): Promise<void> {
  const t = await d.txn.begin(opts);
  try {
    await t.batchGet([a, b]);
    await t.put(a, d.value());
    await t.put(b, d.value());
    await t.commit();
    d.paths[t.commitPath] = (d.paths[t.commitPath] ?? 0) + 1;
  } catch (e) {
    if (t.state === 'active') await t.rollback().catch(() => undefined);
    throw e;
  }
}

/** The operation source of a workload. */
export function txnWorkload(name: TxnWorkloadName, d: TxnWorkloadDeps): () => BenchOperation {
  switch (name) {
    case '1pc':
      return () => ({
        kind: name,
        run: () => transfer(d, sameRegionPair(d.accounts), { onePC: true, asyncCommit: false }),
      });
    case 'transfer-2pc':
      return () => ({
        kind: name,
        run: () => transfer(d, crossRegionPair(d.accounts), { onePC: false, asyncCommit: false }),
      });
    case 'transfer-async':
      return () => ({
        kind: name,
        run: () => transfer(d, crossRegionPair(d.accounts), { asyncCommit: true }),
      });
    case 'transfer-pessimistic':
      return () => ({
        kind: name,
        run: () =>
          transfer(d, crossRegionPair(d.accounts), { pessimistic: true, asyncCommit: false }),
      });
    case 'snapshot-read':
      return () => ({
        kind: name,
        run: async () => {
          const t = await d.txn.begin();
          await t.batchGet(crossRegionPair(d.accounts));
          await t.commit(); // read-only: nothing to write, ends the transaction
        },
      });
    case 'raw-put':
      return () => ({
        kind: name,
        run: () => {
          const keys = d.accounts.all;
          return d.raw.put(keys[Math.floor(Math.random() * keys.length)]!, d.value());
        },
      });
  }
}

/** Whether a workload needs two Regions. */
export function needsTwoRegions(name: TxnWorkloadName): boolean {
  return name !== '1pc' && name !== 'raw-put';
}
