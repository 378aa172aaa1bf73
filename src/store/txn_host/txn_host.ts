// Holds the transactions begun through this store's TxnHost service: one Transaction
// object (a TxnClient in this process buffers its writes) per id, until commit,
// rollback, or the idle TTL — then it is rolled back and remembered as expired for a
// while, so a late call gets a clear "expired" instead of "unknown". Bounded: at most
// maxTxns live transactions (Begin fails with TOO_MANY beyond), each buffering at most
// the TxnClient's maxTxnBytes; calls on one transaction run one at a time, in order.
import type { TxnClient } from '../../client/txn/txn_client.js';
import type { BeginOptions, Transaction } from '../../client/txn/transaction.js';
import { newTxnId, parseTxnId } from '../../client/txn/txn_id.js';

export interface TxnHostOptions {
  storeId: number;
  /** A transaction idle this long is rolled back (ms). */
  idleTtlMs: number;
  maxTxns: number;
  /** How many expired ids are remembered (for the error message). */
  maxRemembered?: number;
  /** The clock of idleness (ms); Date.now by default. */
  now?: () => number;
}

/** A failure the service maps to a TxnHostError code. */
export class TxnHostRefusal extends Error {
  constructor(
    readonly code: 'EXPIRED' | 'UNKNOWN_TXN' | 'TOO_MANY' | 'INVALID' | 'BUSY',
    message: string,
  ) {
    super(message);
  }
}

interface Held {
  txn: Transaction;
  idleTtlMs: number;
  timer: NodeJS.Timeout;
  /** The tail of the per-transaction call queue. */
  tail: Promise<unknown>;
  lastUsed: number;
}

type Ending = 'expired' | 'committed' | 'rolled back' | 'failed';

export class TxnHost {
  private readonly held = new Map<string, Held>();
  /** Ids that ended recently and how (insertion order: oldest first). */
  private readonly ended = new Map<string, { how: Ending; idleTtlMs: number }>();
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly client: TxnClient,
    private readonly opts: TxnHostOptions,
  ) {
    if (!(opts.idleTtlMs > 0)) throw new Error('idleTtlMs must be positive');
    this.now = opts.now ?? Date.now;
  }

  get idleTtlMs(): number {
    return this.opts.idleTtlMs;
  }

  get count(): number {
    return this.held.size;
  }

  async begin(
    options: BeginOptions,
    idleTtlMs = 0,
  ): Promise<{ id: string; startTs: bigint; idleTtlMs: number }> {
    if (this.closed) throw new TxnHostRefusal('BUSY', 'the store is shutting down');
    if (this.held.size >= this.opts.maxTxns) {
      throw new TxnHostRefusal(
        'TOO_MANY',
        `this store holds ${this.held.size} open transactions, its limit; commit or roll some back`,
      );
    }
    const txn = await this.client.begin(options);
    const id = newTxnId(this.opts.storeId, txn.startTs);
    const ttl = idleTtlMs > 0 && idleTtlMs < this.opts.idleTtlMs ? idleTtlMs : this.opts.idleTtlMs;
    const held: Held = {
      txn,
      idleTtlMs: ttl,
      timer: this.arm(id, ttl),
      tail: Promise.resolve(),
      lastUsed: this.now(),
    };
    this.held.set(id, held);
    return { id, startTs: txn.startTs, idleTtlMs: ttl };
  }

  private arm(id: string, ttlMs: number): NodeJS.Timeout {
    const t = setTimeout(() => void this.expire(id), ttlMs);
    t.unref();
    return t;
  }

  private remember(id: string, how: Ending, idleTtlMs = 0): void {
    this.ended.delete(id);
    this.ended.set(id, { how, idleTtlMs });
    const max = this.opts.maxRemembered ?? 10_000;
    while (this.ended.size > max) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Rolls an idle transaction back (after the calls queued on it). */
  private async expire(id: string): Promise<void> {
    const h = this.held.get(id);
    if (!h) return;
    await h.tail.catch(() => {});
    if (this.held.get(id) !== h) return;
    // A call may have arrived while we waited: then it is not idle. Nor is it when the
    // timer fires a little early by this clock (a timer counts from the event loop's
    // time, taken when the loop woke, which may be older than the call's stamp): then
    // it waits out the rest. Re-arming for a whole TTL would let it live up to twice
    // its TTL.
    const idle = this.now() - h.lastUsed;
    if (idle < h.idleTtlMs) {
      h.timer = this.arm(id, h.idleTtlMs - idle);
      return;
    }
    this.held.delete(id);
    this.remember(id, 'expired', h.idleTtlMs);
    await h.txn.rollback().catch(() => {});
  }

  /**
   * Runs f on the transaction `id`, after the calls before it. `ends` marks a call that
   * finishes the transaction (commit, rollback): it is removed whatever the outcome.
   */
  async run<T>(id: string, f: (txn: Transaction) => Promise<T>, ends = false): Promise<T> {
    const parsed = parseTxnId(id);
    if (!parsed)
      throw new TxnHostRefusal('INVALID', `${JSON.stringify(id)} is not a transaction id`);
    const h = this.held.get(id);
    if (!h) {
      const ended = this.ended.get(id);
      const how = ended?.how;
      if (parsed.storeId !== this.opts.storeId) {
        throw new TxnHostRefusal(
          'UNKNOWN_TXN',
          `transaction ${id} belongs to store ${parsed.storeId}, not this one (${this.opts.storeId})`,
        );
      }
      if (how === 'expired') {
        throw new TxnHostRefusal(
          'EXPIRED',
          `transaction ${id} was rolled back after ${ended!.idleTtlMs} ms without a call`,
        );
      }
      throw new TxnHostRefusal(
        'UNKNOWN_TXN',
        how
          ? `transaction ${id} is already ${how}`
          : `no open transaction ${id} on this store (it ended, or the store restarted)`,
      );
    }
    h.lastUsed = this.now();
    clearTimeout(h.timer);
    const result = h.tail
      .catch(() => {})
      .then(async () => {
        try {
          return await f(h.txn);
        } finally {
          h.lastUsed = this.now();
          if (ends || h.txn.state !== 'active') {
            if (this.held.get(id) === h) {
              this.held.delete(id);
              clearTimeout(h.timer);
              const s = h.txn.state;
              this.remember(
                id,
                s === 'committed' ? 'committed' : s === 'rolledBack' ? 'rolled back' : 'failed',
              );
            }
          } else if (this.held.get(id) === h) {
            clearTimeout(h.timer);
            h.timer = this.arm(id, h.idleTtlMs);
          }
        }
      });
    h.tail = result;
    return result;
  }

  /** Rolls back every held transaction (store shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.held.entries()];
    this.held.clear();
    await Promise.all(
      all.map(async ([id, h]) => {
        clearTimeout(h.timer);
        this.remember(id, 'rolled back');
        await h.tail.catch(() => {});
        if (h.txn.state === 'active') await h.txn.rollback().catch(() => {});
      }),
    );
  }
}
