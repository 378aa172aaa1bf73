// Snapshot reads at one timestamp (Percolator §2.2: a read at start_ts sees exactly the
// writes committed before it). A read that meets another transaction's lock asks the
// lock resolver; when the lock is settled or pushed past our timestamp the read is sent
// again (with the pushed transactions as resolved_locks), and while it is alive the read
// backs off. Region errors are repaired and retried by the sender.
import type { LockInfo__Output } from '../../proto-gen/nyx/kv/LockInfo.js';
import type { TxnKvPair__Output } from '../../proto-gen/nyx/kv/TxnKvPair.js';
import { Backoffer, type BackofferOptions } from '../backoff.js';
import type { KvPair } from '../raw_client.js';
import type { LockResolver } from './lock_resolver.js';
import { KeyLockedError, keyErrorToNyx } from './txn_errors.js';
import type { TxnRpc } from './txn_rpc.js';

const cmp = Buffer.compare;

/** The earlier of two end keys (empty is +infinity). */
function minEnd(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return cmp(a, b) <= 0 ? a : b;
}

export interface SnapshotScanOptions {
  limit?: number;
  keyOnly?: boolean;
}

export class Snapshot {
  /** Transactions known to be invisible to this snapshot (their locks are skipped). */
  private readonly ignored = new Set<bigint>();

  constructor(
    readonly ts: bigint,
    private readonly rpc: TxnRpc,
    private readonly resolver: LockResolver,
    private readonly backoffOptions: BackofferOptions,
    private readonly scanBatchSize: number,
  ) {}

  private backoffer(): Backoffer {
    return new Backoffer(this.backoffOptions);
  }

  private resolvedLocks(): string[] {
    return [...this.ignored].map(String);
  }

  /** Resolves locks met; backs off while any is alive. */
  private async onLocks(bo: Backoffer, locks: LockInfo__Output[]): Promise<void> {
    const r = await this.resolver.resolve(bo, this.ts, locks);
    for (const t of r.ignore) this.ignored.add(t);
    if (r.msBeforeExpired > 0) {
      await bo.backoff('txnLock', new KeyLockedError(locks[0]!));
    }
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    const bo = this.backoffer();
    for (;;) {
      const { resp } = await this.rpc.onKey(bo, key, 'txnGet', (context) => ({
        context,
        key,
        version: this.ts.toString(),
        resolvedLocks: this.resolvedLocks(),
      }));
      if (resp.error) {
        if (resp.error.kind === 'locked') {
          await this.onLocks(bo, [resp.error.locked!]);
          continue;
        }
        throw keyErrorToNyx(this.ts, resp.error);
      }
      return resp.notFound ? undefined : Buffer.from(resp.value);
    }
  }

  /** Values of the keys that exist, by hex of the key. */
  async batchGet(keys: Buffer[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    let todo = [...keys].sort(cmp);
    const bo = this.backoffer();
    while (todo.length > 0) {
      const locked: LockInfo__Output[] = [];
      const again: Buffer[] = [];
      await this.rpc.forEachRegion(
        bo,
        todo,
        (k) => k,
        async (sub, batch) => {
          const resp = await this.rpc.send(sub, batch.loc, 'txnBatchGet', (context) => ({
            context,
            keys: batch.items,
            version: this.ts.toString(),
            resolvedLocks: this.resolvedLocks(),
          }));
          if (!resp) return false;
          if (resp.error) {
            // A lock the store met before reading (an in-flight prewrite's memory lock):
            // the whole batch waits for it.
            if (resp.error.kind !== 'locked') throw keyErrorToNyx(this.ts, resp.error);
            locked.push(resp.error.locked!);
            again.push(...batch.items);
            return true;
          }
          for (const p of resp.pairs) {
            if (p.error) {
              if (p.error.kind !== 'locked') throw keyErrorToNyx(this.ts, p.error);
              locked.push(p.error.locked!);
              again.push(Buffer.from(p.key.length > 0 ? p.key : p.error.locked!.key));
            } else out.set(Buffer.from(p.key).toString('hex'), Buffer.from(p.value));
          }
          return true;
        },
      );
      if (locked.length > 0) await this.onLocks(bo, locked);
      todo = again;
    }
    return out;
  }

  /** The pairs in [start, end) at this snapshot, in key order, at most limit of them. */
  async scan(start: Buffer, end: Buffer, options: SnapshotScanOptions = {}): Promise<KvPair[]> {
    const limit = options.limit ?? Infinity;
    const out: KvPair[] = [];
    let cursor = start;
    let bo = this.backoffer();
    while (out.length < limit) {
      const loc = await this.rpc.sender.locateKey(bo, cursor);
      const pieceEnd = minEnd(end, loc.region.endKey);
      const want = Math.min(limit - out.length, this.scanBatchSize);
      const from = cursor;
      const resp = await this.rpc.send(bo, loc, 'txnScan', (context) => ({
        context,
        startKey: from,
        endKey: pieceEnd,
        limit: want,
        version: this.ts.toString(),
        keyOnly: options.keyOnly ?? false,
        resolvedLocks: this.resolvedLocks(),
      }));
      if (!resp) continue;
      if (resp.error) {
        if (resp.error.kind !== 'locked') throw keyErrorToNyx(this.ts, resp.error);
        await this.onLocks(bo, [resp.error.locked!]);
        continue;
      }
      const firstLocked = resp.pairs.findIndex((p: TxnKvPair__Output) => p.error);
      const good = firstLocked < 0 ? resp.pairs : resp.pairs.slice(0, firstLocked);
      for (const p of good) out.push({ key: Buffer.from(p.key), value: Buffer.from(p.value) });
      if (firstLocked >= 0) {
        const locks: LockInfo__Output[] = [];
        for (const p of resp.pairs.slice(firstLocked)) {
          if (!p.error) continue;
          if (p.error.kind !== 'locked') throw keyErrorToNyx(this.ts, p.error);
          locks.push(p.error.locked!);
        }
        await this.onLocks(bo, locks);
        // Scan again from the first locked key.
        cursor = Buffer.from(
          resp.pairs[firstLocked]!.key.length > 0 ? resp.pairs[firstLocked]!.key : locks[0]!.key,
        );
        continue;
      }
      bo = this.backoffer();
      if (resp.pairs.length >= want && resp.pairs.length > 0) {
        cursor = Buffer.concat([out[out.length - 1]!.key, Buffer.alloc(1)]);
        if (end.length > 0 && cmp(cursor, end) >= 0) break;
        continue;
      }
      if (loc.region.endKey.length === 0 || (end.length > 0 && cmp(loc.region.endKey, end) >= 0))
        break;
      cursor = loc.region.endKey;
    }
    return out;
  }
}
