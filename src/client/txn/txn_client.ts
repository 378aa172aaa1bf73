// Transactions for applications: begin() takes a start_ts from PD's TSO and returns a
// Transaction. The client shares one region cache, one pool of BatchCommands
// connections and one lock resolver among all its transactions, like RawClient's.
import { randomBytes } from 'node:crypto';
import type { BackofferOptions } from '../backoff.js';
import { ClientClosedError } from '../errors.js';
import { type ClientClock, NODE_CLIENT_CLOCK } from '../client_clock.js';
import { KvConnectionPool, type KvChannels, type KvConnectionOptions } from '../kv_connection.js';
import { RegionCache, type PdLookup } from '../region_cache.js';
import { RegionRequestSender } from '../region_request.js';
import type { CommitterDeps } from './committer.js';
import { LockResolver } from './lock_resolver.js';
import { ServiceSafePointKeeper, type ServiceSafePointPd } from './service_safe_point.js';
import { Snapshot } from './snapshot.js';
import { Transaction, type BeginOptions } from './transaction.js';
import { TxnRpc } from './txn_rpc.js';
import type { TxnClientSettings } from './txn_settings.js';

export interface TxnClientOptions {
  /** How long one call (a read, a commit phase) may take, retries included (ms). Default 20 000. */
  timeoutMs?: number;
  /** How long one attempt may wait for its answer (ms). Default 10 000. */
  rpcTimeoutMs?: number;
  useBatchCommands?: boolean;
  maxKeyBytes?: number;
  maxValueBytes?: number;
  /** Per transaction; default 100 000 keys and 64 MiB. */
  maxTxnKeys?: number;
  maxTxnBytes?: number;
  /** Keys per request of a batch action. Default 256. */
  maxBatchKeys?: number;
  scanBatchSize?: number;
  /** Base lock TTL (ms), default 3000 (TiKV's default for small transactions). */
  lockTtlMs?: number;
  /** How long a write waits for another transaction's live lock (ms). Default 3000. */
  lockWaitMs?: number;
  /** Defaults of begin(): 1PC on, async commit off. */
  asyncCommit?: boolean;
  onePC?: boolean;
  backoff?: Omit<BackofferOptions, 'deadlineMs'>;
  connection?: KvConnectionOptions;
  /**
   * How requests reach the stores (default: gRPC connections made with `connection`).
   * The store simulation passes its simulated network here.
   */
  channels?: KvChannels;
  /** Clocks, timers and jitter (default: Node's). The store simulation passes virtual ones. */
  clock?: ClientClock;
  /**
   * The name under which this client's oldest live transaction holds the GC safe point
   * back (PD's service safe points). Default: txn-client-<random>.
   */
  gcServiceId?: string;
  /** How long PD keeps that registration without a refresh (s). Default 60. */
  gcServiceTtlSec?: number;
}

/**
 * What TxnClient needs of PD: lookups and timestamps; with service safe points, long
 * transactions are kept readable past gc-life-time.
 */
export type TxnPd = PdLookup & {
  getTimestamp(): Promise<unknown>;
  updateServiceGcSafePoint?: ServiceSafePointPd['updateServiceGcSafePoint'];
};

const MAX_TXN_AGE_MS = 24 * 3600 * 1000;

export class TxnClient {
  readonly cache: RegionCache;
  private readonly pool: KvChannels;
  private readonly rpc: TxnRpc;
  readonly resolver: LockResolver;
  private readonly settings: TxnClientSettings;
  private readonly defaults: { asyncCommit: boolean; onePC: boolean };
  private readonly pending = new Set<Promise<unknown>>();
  private readonly deps: CommitterDeps;
  /** Holds the GC safe point below the live transactions (absent without PD support). */
  readonly gcKeeper: ServiceSafePointKeeper | undefined;
  private closed = false;

  constructor(
    readonly pd: TxnPd,
    options: TxnClientOptions = {},
    private readonly onClose?: () => void,
  ) {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const clock = options.clock ?? NODE_CLIENT_CLOCK;
    this.settings = {
      maxKeyBytes: options.maxKeyBytes ?? 8 << 10,
      maxValueBytes: options.maxValueBytes ?? 8 << 20,
      maxTxnKeys: options.maxTxnKeys ?? 100_000,
      maxTxnBytes: options.maxTxnBytes ?? 64 << 20,
      lockTtlMs: options.lockTtlMs ?? 3000,
      lockWaitMs: options.lockWaitMs ?? 3000,
      scanBatchSize: options.scanBatchSize ?? 1024,
      backoff: {
        ...options.backoff,
        deadlineMs: timeoutMs,
        now: clock.now,
        random: clock.random,
        sleep: clock.sleep,
      },
      clock,
    };
    this.defaults = { asyncCommit: options.asyncCommit ?? false, onePC: options.onePC ?? true };
    this.cache = new RegionCache(pd);
    this.pool = options.channels ?? new KvConnectionPool(options.connection);
    const sender = new RegionRequestSender(this.cache, this.pool, {
      rpcTimeoutMs: options.rpcTimeoutMs ?? 10_000,
      useBatchCommands: options.useBatchCommands ?? true,
    });
    this.rpc = new TxnRpc(sender, options.maxBatchKeys ?? 256);
    this.resolver = new LockResolver(
      this.rpc,
      () => this.getTimestamp(),
      (work) => this.track(work),
    );
    const update = pd.updateServiceGcSafePoint?.bind(pd);
    this.gcKeeper = update
      ? new ServiceSafePointKeeper(
          { updateServiceGcSafePoint: update },
          {
            serviceId: options.gcServiceId ?? `txn-client-${randomBytes(6).toString('hex')}`,
            ttlSec: options.gcServiceTtlSec ?? 60,
            maxTxnAgeMs: MAX_TXN_AGE_MS,
          },
        )
      : undefined;
    this.deps = {
      rpc: this.rpc,
      resolver: this.resolver,
      tso: () => this.getTimestamp(),
      background: (work) => this.track(work),
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError('the client is closed');
  }

  /** A timestamp from PD's TSO. */
  async getTimestamp(): Promise<bigint> {
    const ts = await this.pd.getTimestamp();
    if (typeof ts !== 'bigint') throw new TypeError('PD returned a timestamp that is not a bigint');
    return ts;
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch(() => {
      // Background commits and rollbacks may fail (store down, client closed): the
      // locks they leave are settled by the next reader's lock resolution.
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Starts a transaction at a fresh start_ts. */
  async begin(options: BeginOptions = {}): Promise<Transaction> {
    this.checkOpen();
    const startTs = await this.getTimestamp();
    return this.resume(startTs, options);
  }

  /** A transaction object for a start_ts obtained earlier (the TxnHost holds such). */
  resume(startTs: bigint, options: BeginOptions = {}): Transaction {
    this.checkOpen();
    return new Transaction(
      startTs,
      this.snapshot(startTs),
      {
        pessimistic: options.pessimistic ?? false,
        asyncCommit: options.asyncCommit ?? this.defaults.asyncCommit,
        onePC: options.onePC ?? this.defaults.onePC,
      },
      this.settings,
      this.deps,
      this.gcKeeper?.hold(startTs),
    );
  }

  /** Read-only access to the data as of ts. */
  snapshot(ts: bigint): Snapshot {
    this.checkOpen();
    return new Snapshot(
      ts,
      this.rpc,
      this.resolver,
      this.settings.backoff,
      this.settings.scanBatchSize,
    );
  }

  /** Waits for background work (secondary commits, rollbacks) started so far. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Closes connections (and the PD client, if the factory opened it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    if (this.gcKeeper) {
      // PD stays open until the registration is removed (or a short wait ran out).
      void this.gcKeeper.close().finally(() => this.onClose?.());
    } else {
      this.onClose?.();
    }
  }
}
