// Commits of decided transactions' locks, batched per Region across transactions.
//
// Once a transaction is committed (2PC: its primary's commit record is written; async
// commit: every prewrite succeeded), committing its remaining locks is exactly what a
// lock resolver does for a committed transaction (Percolator §2.2: "a secondary can be
// rolled forward once the primary is committed"). So the client's background commits of
// many transactions whose locks sit in one Region go out as ONE ResolveLock request with
// a commit_ts per transaction (TiKV's ResolveLock with txn_status, as its GC and
// ResolveLockLite use): one request, one set of latches, one Raft proposal on the store
// instead of one of each per transaction. Requests queued in the same event-loop turn
// share a batch (the TSO batcher's rule), so nothing waits for a timer.
//
// A batch that fails in any way (a region error after a split or leader change, no
// answer, a key error) is not retried here: each transaction in it falls back to its own
// per-Region commit with the usual retries. Committing a committed key again is a no-op,
// so a batch that was applied but whose answer was lost does no harm.
import { Backoffer, type BackofferOptions } from '../backoff.js';
import type { RegionLocation } from '../region_cache.js';
import type { TxnRpc } from './txn_rpc.js';

/** One transaction's keys in one Region, waiting for a batch. */
interface Part {
  startTs: bigint;
  commitTs: bigint;
  keys: Buffer[];
  done: (committed: boolean) => void;
}

interface RegionQueue {
  loc: RegionLocation;
  parts: Part[];
}

export class CommitBatcher {
  private readonly queued = new Map<number, RegionQueue>();
  private flushScheduled = false;
  /** Requests sent and transactions they carried (for tests and benchmarks). */
  readonly stats = { requests: 0, parts: 0 };

  constructor(
    private readonly rpc: TxnRpc,
    private readonly backoff: BackofferOptions,
  ) {}

  /**
   * Commits `keys` of decided transaction startTs at commitTs. Keys whose batch failed are
   * handed to `fallback` (the transaction's own commit path); its failure is the result.
   */
  async commit(
    startTs: bigint,
    commitTs: bigint,
    keys: Buffer[],
    fallback: (keys: Buffer[]) => Promise<void>,
  ): Promise<void> {
    if (commitTs <= startTs) {
      throw new RangeError(`commit_ts ${commitTs} must be above start_ts ${startTs}`);
    }
    if (keys.length === 0) return;
    const batches = await this.rpc.group(new Backoffer(this.backoff), keys, (k) => k);
    await Promise.all(
      batches.map(async (b) => {
        const committed = await new Promise<boolean>((done) =>
          this.enqueue(b.loc, { startTs, commitTs, keys: b.items, done }),
        );
        if (!committed) await fallback(b.items);
      }),
    );
  }

  private enqueue(loc: RegionLocation, part: Part): void {
    let q = this.queued.get(loc.region.id);
    if (!q) this.queued.set(loc.region.id, (q = { loc, parts: [] }));
    q.parts.push(part);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const queues = [...this.queued.values()];
    this.queued.clear();
    for (const q of queues) {
      // At most maxBatchKeys keys per request, as every batch action (parts are small).
      let batch: Part[] = [];
      let keys = 0;
      for (const p of q.parts) {
        if (batch.length > 0 && keys + p.keys.length > this.rpc.maxBatchKeys) {
          void this.send(q.loc, batch);
          batch = [];
          keys = 0;
        }
        batch.push(p);
        keys += p.keys.length;
      }
      if (batch.length > 0) void this.send(q.loc, batch);
    }
  }

  private async send(loc: RegionLocation, parts: Part[]): Promise<void> {
    const txnInfos = new Map<bigint, bigint>();
    // A key is listed once: the store commits whichever listed transaction's lock it
    // finds there (two live locks on one key cannot exist).
    const keys = new Map<string, Buffer>();
    for (const p of parts) {
      const known = txnInfos.get(p.startTs);
      if (known !== undefined && known !== p.commitTs) {
        for (const q of parts) q.done(false);
        throw new Error(`transaction ${p.startTs} committed at two timestamps`);
      }
      txnInfos.set(p.startTs, p.commitTs);
      for (const k of p.keys) keys.set(k.toString('latin1'), k);
    }
    this.stats.requests++;
    this.stats.parts += parts.length;
    let ok = false;
    try {
      const resp = await this.rpc.send(new Backoffer(this.backoff), loc, 'resolveLock', (ctx) => ({
        context: ctx,
        txnInfos: [...txnInfos].map(([txn, status]) => ({
          txn: txn.toString(),
          status: status.toString(),
        })),
        keys: [...keys.values()],
      }));
      ok = resp !== undefined && !resp.error;
    } catch {
      ok = false;
    }
    for (const p of parts) p.done(ok);
  }
}
