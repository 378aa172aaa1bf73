// One transaction: reads at start_ts (its snapshot) merged with its own buffered writes,
// writes buffered until commit (optimistic, Percolator) or locked as they happen
// (pessimistic, as TiDB's mode: AcquirePessimisticLock, checked against writes after
// start_ts, so a conflict surfaces at the write, not at commit). commit() runs the Committer;
// rollback() drops the buffer (and any pessimistic locks taken).
import { Backoffer } from '../backoff.js';
import { InvalidArgumentError, KeyTooLargeError, ValueTooLargeError } from '../errors.js';
import type { Bytes, KvPair } from '../raw_client.js';
import { Committer, rollbackKeys, type CommitterDeps } from './committer.js';
import { MutationBuffer, type BufferedMutation } from './mutation_buffer.js';
import type { Snapshot } from './snapshot.js';
import { KeyLockedError, TxnClosedError, WriteConflictError, keyErrorToNyx } from './txn_errors.js';
import type { TxnClientSettings } from './txn_settings.js';

export interface BeginOptions {
  /** Lock keys as they are written (default false: optimistic). */
  pessimistic?: boolean;
  /** Commit once every prewrite succeeded (default: the client's setting). */
  asyncCommit?: boolean;
  /** Commit in one Raft write when every key is in one Region (default: the client's setting). */
  onePC?: boolean;
}

export interface TxnScanOptions {
  limit?: number;
  keyOnly?: boolean;
}

export type TxnState = 'active' | 'committing' | 'committed' | 'rolledBack' | 'failed';

const cmp = Buffer.compare;

function toBuffer(b: Bytes): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  if (Buffer.isBuffer(b)) return b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export class Transaction {
  private readonly buffer: MutationBuffer;
  private stateValue: TxnState = 'active';
  private readonly pessimisticLocked = new Set<string>();
  /** start_ts once a pessimistic lock was taken (the prewrite then names them), else 0. */
  private forUpdateTs = 0n;
  private primary: Buffer | undefined;
  /** When start_ts arrived, on the local monotonic clock (the lock TTL counts age from it). */
  private readonly startedAtMs: number;
  /** Set after commit: which path it took. */
  commitPath: Committer['path'] = 'none';
  commitTs: bigint | undefined;

  constructor(
    readonly startTs: bigint,
    private readonly snapshot: Snapshot,
    private readonly options: Required<BeginOptions>,
    private readonly settings: TxnClientSettings,
    private readonly deps: CommitterDeps,
    /** Called once when the transaction ends (its snapshot no longer holds GC back). */
    private readonly onEnd?: () => void,
  ) {
    this.startedAtMs = settings.clock.now();
    this.buffer = new MutationBuffer({
      maxKeys: settings.maxTxnKeys,
      maxBytes: settings.maxTxnBytes,
    });
  }

  get state(): TxnState {
    return this.stateValue;
  }

  get pessimistic(): boolean {
    return this.options.pessimistic;
  }

  /** Buffered mutations (keys) and their bytes. */
  get size(): { keys: number; bytes: number } {
    return { keys: this.buffer.size, bytes: this.buffer.byteSize };
  }

  private checkActive(): void {
    if (this.stateValue !== 'active') {
      throw new TxnClosedError(`transaction ${this.startTs} is ${this.stateValue}`);
    }
  }

  private key(k: Bytes, what = 'key'): Buffer {
    if (k === null || k === undefined) throw new InvalidArgumentError(`${what} is required`);
    const b = toBuffer(k);
    if (b.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
    if (b.length > this.settings.maxKeyBytes) {
      throw new KeyTooLargeError(b.length, this.settings.maxKeyBytes);
    }
    return b;
  }

  private value(v: Bytes): Buffer {
    if (v === null || v === undefined) throw new InvalidArgumentError('value is required');
    const b = toBuffer(v);
    if (b.length > this.settings.maxValueBytes) {
      throw new ValueTooLargeError(b.length, this.settings.maxValueBytes);
    }
    return b;
  }

  /** What the buffer says of a key: a value, absent, or undefined (ask the snapshot). */
  private static fromBuffer(m: BufferedMutation | undefined): Buffer | null | undefined {
    if (!m || m.kind === 'lock') return undefined;
    return m.kind === 'delete' ? null : m.value!;
  }

  // ---- reads ------------------------------------------------------------------------

  async get(key: Bytes): Promise<Buffer | undefined> {
    this.checkActive();
    const k = this.key(key);
    const mine = Transaction.fromBuffer(this.buffer.get(k));
    if (mine !== undefined) return mine ?? undefined;
    return this.snapshot.get(k);
  }

  /** Values of the keys that exist, keyed by the caller's keys (strings by value). */
  async batchGet<K extends Bytes>(keys: readonly K[]): Promise<Map<K, Buffer>> {
    this.checkActive();
    const out = new Map<K, Buffer>();
    const ask: Buffer[] = [];
    const parsed = keys.map((k) => [k, this.key(k)] as const);
    for (const [, b] of parsed) {
      if (Transaction.fromBuffer(this.buffer.get(b)) === undefined) ask.push(b);
    }
    const found = ask.length > 0 ? await this.snapshot.batchGet(ask) : new Map<string, Buffer>();
    for (const [k, b] of parsed) {
      const mine = Transaction.fromBuffer(this.buffer.get(b));
      const v = mine !== undefined ? mine : found.get(b.toString('hex'));
      if (v) out.set(k, v);
    }
    return out;
  }

  /** Pairs in [start, end) (empty/missing end: +infinity), own writes included. */
  async scan(start: Bytes, end?: Bytes, options: TxnScanOptions = {}): Promise<KvPair[]> {
    this.checkActive();
    const s = start === undefined ? Buffer.alloc(0) : toBuffer(start);
    const e = end === undefined ? Buffer.alloc(0) : toBuffer(end);
    if (e.length > 0 && cmp(s, e) > 0) {
      throw new InvalidArgumentError('the range start is after its end');
    }
    const limit = options.limit ?? Infinity;
    if (!(limit >= 0)) throw new InvalidArgumentError('the scan limit must not be negative');
    if (limit === 0) return [];
    const mine = this.buffer.inRange(s, e).filter((m) => m.kind !== 'lock');
    // Deleted keys may hide some of what the snapshot returns: ask for that many more.
    const hidden = mine.filter((m) => m.kind === 'delete').length;
    const base = await this.snapshot.scan(s, e, {
      limit: limit === Infinity ? undefined : limit + hidden,
      keyOnly: options.keyOnly,
    });
    const merged = new Map<string, KvPair>();
    for (const p of base) merged.set(p.key.toString('hex'), p);
    for (const m of mine) {
      const id = m.key.toString('hex');
      if (m.kind === 'delete') merged.delete(id);
      else merged.set(id, { key: m.key, value: options.keyOnly ? Buffer.alloc(0) : m.value! });
    }
    const out = [...merged.values()].sort((a, b) => cmp(a.key, b.key));
    return out.slice(0, limit === Infinity ? undefined : limit);
  }

  // ---- writes -----------------------------------------------------------------------

  async put(key: Bytes, value: Bytes): Promise<void> {
    this.checkActive();
    const k = this.key(key);
    const v = this.value(value);
    if (this.options.pessimistic) await this.acquireLocks([k]);
    this.buffer.set({ kind: 'put', key: k, value: v });
  }

  /** A put that fails at commit with KeyExistsError if the key exists at start_ts. */
  async insert(key: Bytes, value: Bytes): Promise<void> {
    this.checkActive();
    const k = this.key(key);
    const v = this.value(value);
    if (this.options.pessimistic) await this.acquireLocks([k]);
    this.buffer.set({ kind: 'insert', key: k, value: v });
  }

  async delete(key: Bytes): Promise<void> {
    this.checkActive();
    const k = this.key(key);
    if (this.options.pessimistic) await this.acquireLocks([k]);
    this.buffer.set({ kind: 'delete', key: k });
  }

  /**
   * Locks keys without writing them: a concurrent transaction that writes one of them
   * conflicts with this one (optimistic: at commit; pessimistic: now).
   */
  async lockKeys(...keys: Bytes[]): Promise<void> {
    this.checkActive();
    const ks = keys.map((k) => this.key(k));
    if (this.options.pessimistic) await this.acquireLocks(ks);
    for (const k of ks) this.buffer.set({ kind: 'lock', key: k });
  }

  /**
   * Pessimistic mode: lock keys now. The lock checks for writes committed after start_ts:
   * its for_update_ts is start_ts itself, not a fresh timestamp as TiDB's statements use.
   * TiDB re-reads at the fresh for_update_ts when it retries a statement; this SDK reads
   * at start_ts only, so a lock taken over a newer commit would let the transaction write
   * over a value it never saw (a lost update, which snapshot isolation forbids). A newer
   * commit fails the write at once with WriteConflictError, first committer wins
   * (Berenson et al. 1995, §4.2), and the transaction is retried whole.
   */
  private async acquireLocks(keys: Buffer[]): Promise<void> {
    const todo = keys.filter((k) => !this.pessimisticLocked.has(k.toString('hex')));
    if (todo.length === 0) return;
    todo.sort(cmp);
    this.primary ??= todo[0]!;
    this.forUpdateTs = this.startTs;
    const bo = new Backoffer(this.settings.backoff);
    const clock = this.settings.clock;
    const waitStart = clock.now();
    for (;;) {
      // The lock outlives the time the transaction has already lived (as the committer's).
      const ttl = Math.ceil(clock.now() - this.startedAtMs) + this.settings.lockTtlMs;
      const locks: NonNullable<ReturnType<typeof lockOf>>[] = [];
      await this.deps.rpc.forEachRegion(
        bo,
        todo,
        (k) => k,
        async (sub, batch) => {
          const resp = await this.deps.rpc.send(sub, batch.loc, 'pessimisticLock', (context) => ({
            context,
            mutations: batch.items.map((key) => ({ op: 'Lock' as const, key })),
            primaryLock: this.primary!,
            startVersion: this.startTs.toString(),
            lockTtl: ttl,
            forUpdateTs: this.startTs.toString(),
            isFirstLock: this.pessimisticLocked.size === 0,
            waitTimeout: this.settings.lockWaitMs,
            minCommitTs: (this.startTs + 1n).toString(),
          }));
          if (!resp) return false;
          for (const e of resp.errors) {
            const err = keyErrorToNyx(this.startTs, e);
            if (err instanceof KeyLockedError) locks.push(lockOf(err));
            else throw err; // a WriteConflictError among them
          }
          return true;
        },
      );
      if (locks.length === 0) break;
      const lock = locks[0]!;
      if (clock.now() - waitStart > this.settings.lockWaitMs) {
        throw new WriteConflictError(
          Buffer.from(lock.key),
          this.startTs,
          BigInt(lock.lockVersion),
          0n,
        );
      }
      // Another transaction's live lock (the store already waited for it): settle dead
      // ones, back off for live ones, and ask again.
      const r = await this.deps.resolver.resolve(bo, 0n, locks);
      if (r.msBeforeExpired > 0) await bo.backoff('txnLock', new KeyLockedError(lock));
    }
    for (const k of todo) this.pessimisticLocked.add(k.toString('hex'));
  }

  // ---- the end ----------------------------------------------------------------------

  /** Commits; returns commit_ts (start_ts for a transaction that wrote nothing). */
  async commit(): Promise<bigint> {
    this.checkActive();
    this.stateValue = 'committing';
    const mutations = this.buffer.sorted();
    if (mutations.length === 0) {
      this.stateValue = 'committed';
      this.commitTs = this.startTs;
      this.onEnd?.();
      return this.startTs;
    }
    const committer = new Committer(
      this.startTs,
      mutations,
      {
        lockTtlMs: this.settings.lockTtlMs,
        asyncCommit: this.options.asyncCommit,
        onePC: this.options.onePC,
        forUpdateTs: this.forUpdateTs,
        pessimisticLocked: this.pessimisticLocked,
        primary: this.primary,
        backoff: this.settings.backoff,
        lockWaitMs: this.settings.lockWaitMs,
        startedAtMs: this.startedAtMs,
        clock: this.settings.clock,
      },
      this.deps,
    );
    try {
      const ts = await committer.commit();
      this.stateValue = 'committed';
      this.commitPath = committer.path;
      this.commitTs = ts;
      return ts;
    } catch (e) {
      this.stateValue = 'failed';
      throw e;
    } finally {
      this.onEnd?.();
    }
  }

  /** Drops the buffered writes and releases pessimistic locks. Idempotent. */
  async rollback(): Promise<void> {
    if (this.stateValue === 'rolledBack' || this.stateValue === 'failed') return;
    if (this.stateValue !== 'active') {
      throw new TxnClosedError(`transaction ${this.startTs} is ${this.stateValue}`);
    }
    this.stateValue = 'rolledBack';
    this.onEnd?.();
    if (this.pessimisticLocked.size === 0) return;
    const keys = [...this.pessimisticLocked].map((h) => Buffer.from(h, 'hex'));
    await rollbackKeys(this.deps.rpc, this.settings.backoff, this.startTs, keys);
  }
}

function lockOf(e: KeyLockedError): KeyLockedError['lock'] {
  return e.lock;
}
