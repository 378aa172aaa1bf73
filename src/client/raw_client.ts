// RawKV for applications: get / put / delete / scan / CAS over the whole key space,
// hiding Regions. Every call locates the Regions its keys fall in, sends one request per
// Region (in parallel when there are several) to the leader's store, and on a region
// error or a lost connection lets the sender repair the cache and back off, then
// locates again — a retried request may now span two Regions after a split. Arguments
// are checked here, so a call that can never succeed fails at once with a typed error.
import { Backoffer, type BackofferOptions } from './backoff.js';
import {
  ClientClosedError,
  InvalidArgumentError,
  KeyTooLargeError,
  ValueTooLargeError,
} from './errors.js';
import { type ClientClock, NODE_CLIENT_CLOCK } from './client_clock.js';
import { KvConnectionPool, type KvChannels, type KvConnectionOptions } from './kv_connection.js';
import { RegionCache, type PdLookup, type RegionLocation } from './region_cache.js';
import { RegionRequestSender } from './region_request.js';
import { ClientSession, WriteCall } from './session.js';

/** Keys and values: bytes, or a string taken as UTF-8. */
export type Bytes = Buffer | Uint8Array | string;

export interface KvPair {
  key: Buffer;
  value: Buffer;
}

export interface ScanOptions {
  /** At most this many pairs (default: no limit). */
  limit?: number;
  /** Highest keys first; the range [start, end) means the same either way. */
  reverse?: boolean;
  /** Leave values empty. */
  keyOnly?: boolean;
}

export interface CasResult {
  succeeded: boolean;
  /** The value before the call (whether or not it was swapped); undefined if absent. */
  previous: Buffer | undefined;
}

export interface RawClientOptions {
  /** How long one call may take, retries included (ms). Default 20 000. */
  timeoutMs?: number;
  /** How long one attempt may wait for its answer (ms). Default 10 000. */
  rpcTimeoutMs?: number;
  /** Multiplex requests on one BatchCommands stream per store (default) or use unary calls. */
  useBatchCommands?: boolean;
  /** Client-side limits, matching the store's defaults. */
  maxKeyBytes?: number;
  maxValueBytes?: number;
  /** At most this many keys, and about this many bytes, per request of a batch call. */
  maxBatchKeys?: number;
  maxBatchBytes?: number;
  /** Pairs asked for per scan request; longer scans continue with further requests. */
  scanBatchSize?: number;
  /** Backoff schedules, jitter and clock (tests inject their own). */
  backoff?: Omit<BackofferOptions, 'deadlineMs'>;
  connection?: KvConnectionOptions;
  /**
   * How requests reach the stores (default: gRPC connections made with `connection`).
   * The store simulation passes its simulated network here.
   */
  channels?: KvChannels;
  /** Clocks, timers and jitter (default: Node's). The store simulation passes virtual ones. */
  clock?: ClientClock;
  /** The exactly-once session's id (default: random). Fixed only to replay a run exactly. */
  sessionId?: Buffer;
}

const DEFAULTS = {
  timeoutMs: 20_000,
  rpcTimeoutMs: 10_000,
  useBatchCommands: true,
  maxKeyBytes: 8 << 10,
  maxValueBytes: 8 << 20,
  maxBatchKeys: 1024,
  maxBatchBytes: 4 << 20,
  scanBatchSize: 1024,
};

/** Retries of one write stop after this long (see writeBackoffer). */
const MAX_WRITE_RETRY_MS = 120_000;

const cmp = Buffer.compare;

function toBuffer(b: Bytes): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  if (Buffer.isBuffer(b)) return b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The later of two start keys (empty is -infinity). */
function maxStart(a: Buffer, b: Buffer): Buffer {
  return cmp(a, b) >= 0 ? a : b;
}

/** The earlier of two end keys (empty is +infinity). */
function minEnd(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return cmp(a, b) <= 0 ? a : b;
}

/** Does a Region ending at regionEnd reach end? (Empty is +infinity for both.) */
function reachesEnd(regionEnd: Buffer, end: Buffer): boolean {
  if (regionEnd.length === 0) return true;
  return end.length > 0 && cmp(regionEnd, end) >= 0;
}

/** The smallest key greater than k. */
function successor(k: Buffer): Buffer {
  return Buffer.concat([k, Buffer.alloc(1)]);
}

/** Splits items into runs of at most maxKeys items and about maxBytes bytes. */
function chunk<T>(items: T[], maxKeys: number, maxBytes: number, size: (t: T) => number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const n = size(it);
    if (cur.length > 0 && (cur.length >= maxKeys || bytes + n > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class RawClient {
  readonly cache: RegionCache;
  private readonly pool: KvChannels;
  private readonly sender: RegionRequestSender;
  private readonly opts: typeof DEFAULTS;
  private readonly backoffOptions: Omit<BackofferOptions, 'deadlineMs'>;
  /** Every write carries this session's id and a number (exactly-once retries). */
  readonly session: ClientSession;
  private closed = false;

  constructor(
    readonly pd: PdLookup,
    options: RawClientOptions = {},
    /** Called by close(): releases what the factory opened (the PD client). */
    private readonly onClose?: () => void,
  ) {
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      rpcTimeoutMs: options.rpcTimeoutMs ?? DEFAULTS.rpcTimeoutMs,
      useBatchCommands: options.useBatchCommands ?? DEFAULTS.useBatchCommands,
      maxKeyBytes: options.maxKeyBytes ?? DEFAULTS.maxKeyBytes,
      maxValueBytes: options.maxValueBytes ?? DEFAULTS.maxValueBytes,
      maxBatchKeys: options.maxBatchKeys ?? DEFAULTS.maxBatchKeys,
      maxBatchBytes: options.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
      scanBatchSize: options.scanBatchSize ?? DEFAULTS.scanBatchSize,
    };
    const clock = options.clock ?? NODE_CLIENT_CLOCK;
    this.backoffOptions = {
      now: clock.now,
      random: clock.random,
      sleep: clock.sleep,
      ...options.backoff,
    };
    this.session = new ClientSession(options.sessionId);
    this.cache = new RegionCache(pd);
    this.pool = options.channels ?? new KvConnectionPool(options.connection);
    this.sender = new RegionRequestSender(this.cache, this.pool, {
      rpcTimeoutMs: this.opts.rpcTimeoutMs,
      useBatchCommands: this.opts.useBatchCommands,
    });
  }

  /** gRPC connections per store address (for tests and metrics). */
  get connections(): KvConnectionPool {
    if (!(this.pool instanceof KvConnectionPool)) {
      throw new Error('this client reaches the stores through channels it was given');
    }
    return this.pool;
  }

  // ---- argument checks -------------------------------------------------------------

  private key(k: Bytes, what = 'key'): Buffer {
    if (k === null || k === undefined) throw new InvalidArgumentError(`${what} is required`);
    const b = toBuffer(k);
    if (b.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
    if (b.length > this.opts.maxKeyBytes)
      throw new KeyTooLargeError(b.length, this.opts.maxKeyBytes);
    return b;
  }

  private value(v: Bytes): Buffer {
    if (v === null || v === undefined) throw new InvalidArgumentError('value is required');
    const b = toBuffer(v);
    if (b.length > this.opts.maxValueBytes) {
      throw new ValueTooLargeError(b.length, this.opts.maxValueBytes);
    }
    return b;
  }

  /** A range bound: may be empty (unbounded), else a valid key. */
  private bound(k: Bytes | undefined): Buffer {
    if (k === undefined || k === null) return Buffer.alloc(0);
    const b = toBuffer(k);
    if (b.length > this.opts.maxKeyBytes)
      throw new KeyTooLargeError(b.length, this.opts.maxKeyBytes);
    return b;
  }

  private range(start: Bytes | undefined, end: Bytes | undefined): [Buffer, Buffer] {
    const s = this.bound(start);
    const e = this.bound(end);
    if (e.length > 0 && cmp(s, e) > 0) {
      throw new InvalidArgumentError('the range start is after its end');
    }
    return [s, e];
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientClosedError('the client is closed');
  }

  private backoffer(): Backoffer {
    this.checkOpen();
    return new Backoffer({ ...this.backoffOptions, deadlineMs: this.opts.timeoutMs });
  }

  /**
   * A write's retry budget. Its retries must end well within the time a Region keeps an
   * idle session (src/store/session_table.ts, 5 min): a retry arriving after the session
   * expired would be applied again. Two minutes leaves a wide margin for clock skew
   * between the leaders whose clocks stamp the log.
   */
  private writeBackoffer(): Backoffer {
    this.checkOpen();
    return new Backoffer({
      ...this.backoffOptions,
      deadlineMs: Math.min(this.opts.timeoutMs, MAX_WRITE_RETRY_MS),
    });
  }

  /** Run one write call with its session numbers (see session.ts). */
  private write<T>(f: (call: WriteCall, bo: Backoffer) => Promise<T>): Promise<T> {
    const bo = this.writeBackoffer();
    const call = new WriteCall(this.session);
    return call.run(() => f(call, bo));
  }

  // ---- the retry shapes --------------------------------------------------------------

  /** One key, one Region: locate, send, and locate again on every retry. */
  private async onKey<T>(
    bo: Backoffer,
    key: Buffer,
    attempt: (loc: RegionLocation) => Promise<T | undefined>,
  ): Promise<T> {
    for (;;) {
      const loc = await this.sender.locateKey(bo, key);
      const r = await attempt(loc);
      if (r !== undefined) return r;
    }
  }

  /**
   * Many items keyed by key: grouped by Region and chunked, the requests run in
   * parallel; a chunk that must be retried is grouped again, since its Region may have
   * split. An attempt returns true when done, false (or, for a write, its session
   * number) to be retried: the pieces of a regrouped chunk keep that number, because
   * the Region's session records follow their keys through a split.
   */
  private async byRegion<T>(
    bo: Backoffer,
    items: T[],
    keyOf: (t: T) => Buffer,
    sizeOf: (t: T) => number,
    attempt: (
      bo: Backoffer,
      loc: RegionLocation,
      chunk: T[],
      seq?: number,
    ) => Promise<boolean | number>,
    seq?: number,
  ): Promise<void> {
    const groups = new Map<number, { loc: RegionLocation; items: T[] }>();
    let last: RegionLocation | undefined;
    for (const it of items) {
      const k = keyOf(it);
      // Sorted input mostly stays in one Region: skip the lookup while it does.
      const inLast =
        last &&
        cmp(k, last.region.startKey) >= 0 &&
        (last.region.endKey.length === 0 || cmp(k, last.region.endKey) < 0);
      const loc = inLast ? last! : await this.sender.locateKey(bo, k);
      last = loc;
      let g = groups.get(loc.region.id);
      if (!g || g.loc.region !== loc.region) {
        g = { loc, items: [] };
        groups.set(loc.region.id, g);
      }
      g.items.push(it);
    }
    const tasks: Promise<void>[] = [];
    for (const g of groups.values()) {
      for (const c of chunk(g.items, this.opts.maxBatchKeys, this.opts.maxBatchBytes, sizeOf)) {
        tasks.push(
          (async () => {
            const sub = bo.fork();
            const r = await attempt(sub, g.loc, c, seq);
            if (r !== true) {
              await this.byRegion(sub, c, keyOf, sizeOf, attempt, r === false ? seq : r);
            }
          })(),
        );
      }
    }
    await Promise.all(tasks);
  }

  /** [start, end) cut at Region boundaries, one request per piece, in parallel. */
  private async byRange(
    bo: Backoffer,
    start: Buffer,
    end: Buffer,
    attempt: (
      bo: Backoffer,
      loc: RegionLocation,
      start: Buffer,
      end: Buffer,
      seq?: number,
    ) => Promise<boolean | number>,
    seq?: number,
  ): Promise<void> {
    const locs = await this.sender.locateRange(bo, start, end);
    await Promise.all(
      locs.map(async (loc) => {
        const sub = bo.fork();
        const s = maxStart(start, loc.region.startKey);
        const e = minEnd(end, loc.region.endKey);
        const r = await attempt(sub, loc, s, e, seq);
        if (r !== true) await this.byRange(sub, s, e, attempt, r === false ? seq : r);
      }),
    );
  }

  // ---- the API -----------------------------------------------------------------------

  /** The value of key, or undefined if it is absent. */
  async get(key: Bytes): Promise<Buffer | undefined> {
    const k = this.key(key);
    const bo = this.backoffer();
    const resp = await this.onKey(bo, k, (loc) =>
      this.sender.send(bo, loc, 'rawGet', (context) => ({ context, key: k })),
    );
    return resp.notFound ? undefined : Buffer.from(resp.value);
  }

  /**
   * The values of the keys that exist, keyed by the caller's own key values: strings
   * compare by value, Buffers by identity (pass the same objects to look them up).
   */
  async batchGet<K extends Bytes>(keys: readonly K[]): Promise<Map<K, Buffer>> {
    const wanted = new Map<string, K[]>();
    const unique: Buffer[] = [];
    for (const key of keys) {
      const b = this.key(key);
      const hex = b.toString('hex');
      const same = wanted.get(hex);
      if (same) same.push(key);
      else {
        wanted.set(hex, [key]);
        unique.push(b);
      }
    }
    unique.sort(cmp);
    const found = new Map<string, Buffer>();
    const bo = this.backoffer();
    await this.byRegion(
      bo,
      unique,
      (k) => k,
      (k) => k.length,
      async (sub, loc, chunkKeys) => {
        const resp = await this.sender.send(sub, loc, 'rawBatchGet', (context) => ({
          context,
          keys: chunkKeys,
        }));
        if (!resp) return false;
        for (const p of resp.pairs)
          found.set(Buffer.from(p.key).toString('hex'), Buffer.from(p.value));
        return true;
      },
    );
    const out = new Map<K, Buffer>();
    for (const [hex, ks] of wanted) {
      const v = found.get(hex);
      if (v !== undefined) for (const k of ks) out.set(k, v);
    }
    return out;
  }

  async put(key: Bytes, value: Bytes): Promise<void> {
    const k = this.key(key);
    const v = this.value(value);
    await this.write(async (call, bo) => {
      const tag = { call, seq: call.request() };
      await this.onKey(bo, k, (loc) =>
        this.sender.send(bo, loc, 'rawPut', (context) => ({ context, key: k, value: v }), tag),
      );
    });
  }

  /**
   * Writes many pairs: those of one Region (and one request) atomically, the Regions in
   * parallel and independently. A key given twice keeps its last value.
   */
  async batchPut(pairs: Iterable<readonly [Bytes, Bytes]> | readonly KvPair[]): Promise<void> {
    const byKey = new Map<string, KvPair>();
    for (const p of pairs as Iterable<readonly [Bytes, Bytes] | KvPair>) {
      const [key, value] = Array.isArray(p) ? p : [(p as KvPair).key, (p as KvPair).value];
      const k = this.key(key as Bytes);
      byKey.set(k.toString('hex'), { key: k, value: this.value(value as Bytes) });
    }
    const items = [...byKey.values()].sort((a, b) => cmp(a.key, b.key));
    if (items.length === 0) return;
    await this.write((call, bo) =>
      this.byRegion(
        bo,
        items,
        (p) => p.key,
        (p) => p.key.length + p.value.length,
        async (sub, loc, chunkPairs, seq) => {
          const tag = { call, seq: seq ?? call.request() };
          const resp = await this.sender.send(
            sub,
            loc,
            'rawBatchPut',
            (context) => ({ context, pairs: chunkPairs }),
            tag,
          );
          return resp !== undefined || tag.seq;
        },
      ),
    );
  }

  async delete(key: Bytes): Promise<void> {
    const k = this.key(key);
    await this.write(async (call, bo) => {
      const tag = { call, seq: call.request() };
      await this.onKey(bo, k, (loc) =>
        this.sender.send(bo, loc, 'rawDelete', (context) => ({ context, key: k }), tag),
      );
    });
  }

  /** Deletes every key in [start, end); an empty or missing end means +infinity. */
  async deleteRange(start: Bytes, end?: Bytes): Promise<void> {
    const [s, e] = this.range(start, end);
    if (e.length > 0 && cmp(s, e) === 0) return;
    await this.write((call, bo) =>
      this.byRange(bo, s, e, async (sub, loc, rs, re, seq) => {
        const tag = { call, seq: seq ?? call.request() };
        const resp = await this.sender.send(
          sub,
          loc,
          'rawDeleteRange',
          (context) => ({ context, startKey: rs, endKey: re }),
          tag,
        );
        return resp !== undefined || tag.seq;
      }),
    );
  }

  /**
   * The pairs in [start, end) in key order (reverse: highest first), across Region
   * boundaries, at most `limit` of them. An empty start is -infinity, an empty or
   * missing end +infinity.
   */
  async scan(start: Bytes, end?: Bytes, options: ScanOptions = {}): Promise<KvPair[]> {
    const [s, e] = this.range(start, end);
    const limit = options.limit ?? Infinity;
    if (!(limit >= 0)) throw new InvalidArgumentError('the scan limit must not be negative');
    if (limit === 0 || (e.length > 0 && cmp(s, e) === 0)) return [];
    const keyOnly = options.keyOnly ?? false;
    this.checkOpen();
    return options.reverse
      ? this.scanReverse(s, e, limit, keyOnly)
      : this.scanForward(s, e, limit, keyOnly);
  }

  // The deadline and the backoff apply per piece: a long scan that keeps making
  // progress is not cut off because its total time passed the call's timeout.
  private async scanForward(
    start: Buffer,
    end: Buffer,
    limit: number,
    keyOnly: boolean,
  ): Promise<KvPair[]> {
    const out: KvPair[] = [];
    let cursor = start;
    let bo = this.backoffer();
    while (out.length < limit) {
      const loc = await this.sender.locateKey(bo, cursor);
      const pieceEnd = minEnd(end, loc.region.endKey);
      const want = Math.min(limit - out.length, this.opts.scanBatchSize);
      const from = cursor;
      const resp = await this.sender.send(bo, loc, 'rawScan', (context) => ({
        context,
        startKey: from,
        endKey: pieceEnd,
        limit: want,
        keyOnly,
      }));
      if (!resp) continue;
      bo = this.backoffer();
      for (const kv of resp.kvs)
        out.push({ key: Buffer.from(kv.key), value: Buffer.from(kv.value) });
      if ((resp.kvs.length >= want || resp.more) && resp.kvs.length > 0) {
        // The Region may hold more: continue right after the last key.
        cursor = successor(out[out.length - 1]!.key);
        if (end.length > 0 && cmp(cursor, end) >= 0) break;
        continue;
      }
      if (reachesEnd(loc.region.endKey, end)) break;
      cursor = loc.region.endKey;
    }
    return out;
  }

  private async scanReverse(
    start: Buffer,
    end: Buffer,
    limit: number,
    keyOnly: boolean,
  ): Promise<KvPair[]> {
    const out: KvPair[] = [];
    // Exclusive upper bound of what is left to scan; empty is +infinity.
    let upper = end;
    let bo = this.backoffer();
    while (out.length < limit) {
      const loc = await this.sender.locateEndKey(bo, upper, start);
      const pieceStart = maxStart(start, loc.region.startKey);
      const want = Math.min(limit - out.length, this.opts.scanBatchSize);
      const to = upper;
      const resp = await this.sender.send(bo, loc, 'rawScan', (context) => ({
        context,
        startKey: pieceStart,
        endKey: to,
        limit: want,
        keyOnly,
        reverse: true,
      }));
      if (!resp) continue;
      bo = this.backoffer();
      for (const kv of resp.kvs)
        out.push({ key: Buffer.from(kv.key), value: Buffer.from(kv.value) });
      if ((resp.kvs.length >= want || resp.more) && resp.kvs.length > 0) {
        // The Region may hold more below the last key returned.
        upper = out[out.length - 1]!.key;
        if (cmp(upper, start) <= 0) break;
        continue;
      }
      if (cmp(loc.region.startKey, start) <= 0) break;
      upper = loc.region.startKey;
    }
    return out;
  }

  /**
   * Sets key to value if its current value equals `expected` (null: if it is absent).
   * A retry after a lost connection is answered from the Region's record of the first
   * attempt, so the result is the swap's own, never a second evaluation.
   */
  async compareAndSwap(key: Bytes, expected: Bytes | null, value: Bytes): Promise<CasResult> {
    const k = this.key(key);
    const v = this.value(value);
    const prev = expected === null ? undefined : this.value(expected);
    const resp = await this.write((call, bo) => {
      const tag = { call, seq: call.request() };
      return this.onKey(bo, k, (loc) =>
        this.sender.send(
          bo,
          loc,
          'rawCompareAndSwap',
          (context) => ({
            context,
            key: k,
            value: v,
            previousValue: prev ?? Buffer.alloc(0),
            previousNotExist: prev === undefined,
          }),
          tag,
        ),
      );
    });
    return {
      succeeded: resp.succeed,
      previous: resp.previousNotExist ? undefined : Buffer.from(resp.previousValue),
    };
  }

  /** Closes every store connection (and the PD client, if the factory opened it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    this.onClose?.();
  }
}
