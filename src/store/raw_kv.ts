// RawKV on a store: finds the Region peer a request names, checks it (store, Region,
// epoch, leadership, key range, limits), and turns it into a linearizable read or a Raft
// proposal. Answers are domain values or typed errors; the gRPC binding only converts.
import { RegionError } from '../region/errors.js';
import { Region, RegionEpoch } from '../region/meta.js';
import { KvPair } from '../storage/region_engine.js';
import { MAX_SESSION_ID_BYTES, SessionStamp, WriteOp } from './cmd/command.js';
import { RegionPeer, WriteResult } from './peer.js';
import { RaftStore } from './raft_store.js';
import { DiskUsage } from './disk_usage.js';

export interface RequestContext {
  regionId: number;
  epoch?: RegionEpoch;
  /** The peer (and so the store) the client believes is the leader. */
  storeId?: number;
  /** Set on writes by clients with a session: makes retries of the write exactly-once. */
  session?: SessionStamp;
}

export interface RawKvLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxBatchKeys: number;
  maxScanLimit: number;
  /**
   * A scan answers at most about this many key and value bytes (it stops after the pair
   * that reaches it) and says there is more: the count limit alone would let one request
   * of 10 000 pairs of 8 MiB values hold 80 GB.
   */
  maxScanBytes: number;
}

export const DEFAULT_RAW_KV_LIMITS: RawKvLimits = {
  maxKeyBytes: 8 << 10,
  maxValueBytes: 8 << 20,
  maxBatchKeys: 10_000,
  maxScanLimit: 10_000,
  maxScanBytes: 4 << 20,
};

/** A scan's pairs; `more` when it stopped at the byte cap before its limit or range end. */
export interface ScanResult {
  pairs: KvPair[];
  more: boolean;
}

/** A request that can never succeed as sent (empty key, value too large, ...). */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

export class RawKv {
  constructor(
    private readonly store: RaftStore,
    private readonly limits: RawKvLimits = DEFAULT_RAW_KV_LIMITS,
    /** Refuses writes that add data when the disk is almost full (absent in unit tests). */
    private readonly disk?: DiskUsage,
  ) {}

  private peer(ctx: RequestContext): RegionPeer {
    return checkedPeer(this.store, ctx);
  }

  private checkKey(key: Buffer): void {
    if (key.length === 0) throw new InvalidRequestError('key must not be empty');
    if (key.length > this.limits.maxKeyBytes) {
      throw new InvalidRequestError(
        `key of ${key.length} bytes exceeds the limit of ${this.limits.maxKeyBytes}`,
      );
    }
  }

  private checkValue(value: Buffer): void {
    if (value.length > this.limits.maxValueBytes) {
      throw new InvalidRequestError(
        `value of ${value.length} bytes exceeds the limit of ${this.limits.maxValueBytes}`,
      );
    }
  }

  private checkBatch(n: number): void {
    if (n > this.limits.maxBatchKeys) {
      throw new InvalidRequestError(
        `batch of ${n} keys exceeds the limit of ${this.limits.maxBatchKeys}`,
      );
    }
  }

  private read<T>(peer: RegionPeer, f: () => T): Promise<T> {
    return linearizableRead(this.store, peer, f);
  }

  private write(peer: RegionPeer, ctx: RequestContext, ops: WriteOp[]): Promise<WriteResult> {
    const s = ctx.session;
    checkSession(s);
    return new Promise<WriteResult>((resolve, reject) => {
      peer.proposeWrite(ops, s, (r) => (r instanceof Error ? reject(r) : resolve(r)));
      this.store.schedule();
    });
  }

  async get(ctx: RequestContext, key: Buffer): Promise<Buffer | undefined> {
    this.checkKey(key);
    const peer = this.peer(ctx);
    peer.checkKey(key);
    const value = await this.read(peer, () => peer.engine.get('raw', key));
    this.store.flow.onRead(peer.regionId, { start: key }, 1, key.length + (value?.length ?? 0));
    return value;
  }

  async batchGet(ctx: RequestContext, keys: Buffer[]): Promise<KvPair[]> {
    this.checkBatch(keys.length);
    for (const k of keys) this.checkKey(k);
    const peer = this.peer(ctx);
    for (const k of keys) peer.checkKey(k);
    const pairs = await this.read(peer, () => peer.engine.batchGet('raw', keys));
    if (keys.length > 0)
      this.store.flow.onRead(peer.regionId, { start: keys[0]! }, pairs.length, pairsBytes(pairs));
    return pairs;
  }

  /** Pairs in [start, end) ∩ the Region, ascending or (reverse) descending, at most limit. */
  async scan(
    ctx: RequestContext,
    start: Buffer,
    end: Buffer,
    opts: { limit: number; reverse: boolean; keyOnly: boolean },
  ): Promise<ScanResult> {
    const limit =
      opts.limit === 0 ? this.limits.maxScanLimit : Math.min(opts.limit, this.limits.maxScanLimit);
    const peer = this.peer(ctx);
    const range = clampToRegion(start, end, peer.region);
    if (!range) return { pairs: [], more: false };
    const maxBytes = this.limits.maxScanBytes;
    const pairs = await this.read(peer, () =>
      peer.engine.scan({
        table: 'raw',
        start: range.start,
        end: range.end,
        limit,
        reverse: opts.reverse,
        keyOnly: opts.keyOnly,
        maxBytes,
      }),
    );
    const bytes = pairsBytes(pairs);
    this.store.flow.onRead(peer.regionId, range, pairs.length, bytes);
    // Cut by bytes, not by count: the caller must continue after the last key (at worst
    // it learns with one more request that nothing was left).
    return { pairs, more: pairs.length < limit && bytes >= maxBytes };
  }

  async put(ctx: RequestContext, key: Buffer, value: Buffer): Promise<void> {
    this.checkKey(key);
    this.checkValue(value);
    const peer = this.peer(ctx);
    this.disk?.checkWrite();
    peer.checkKey(key);
    await this.write(peer, ctx, [{ op: 'put', cf: 'raw', key, value }]);
    this.store.flow.onWrite(peer.regionId, 1, key.length + value.length);
  }

  async batchPut(ctx: RequestContext, pairs: { key: Buffer; value: Buffer }[]): Promise<void> {
    this.checkBatch(pairs.length);
    for (const p of pairs) {
      this.checkKey(p.key);
      this.checkValue(p.value);
    }
    const peer = this.peer(ctx);
    this.disk?.checkWrite();
    for (const p of pairs) peer.checkKey(p.key);
    await this.write(
      peer,
      ctx,
      pairs.map((p) => ({ op: 'put', cf: 'raw', key: p.key, value: p.value })),
    );
    if (pairs.length > 0) this.store.flow.onWrite(peer.regionId, pairs.length, pairsBytes(pairs));
  }

  async delete(ctx: RequestContext, key: Buffer): Promise<void> {
    this.checkKey(key);
    const peer = this.peer(ctx);
    peer.checkKey(key);
    await this.write(peer, ctx, [{ op: 'delete', cf: 'raw', key }]);
    this.store.flow.onWrite(peer.regionId, 1, key.length);
  }

  /** Delete [start, end) ∩ the Region (the client splits a range across Regions). */
  async deleteRange(ctx: RequestContext, start: Buffer, end: Buffer): Promise<void> {
    if (end.length > 0 && Buffer.compare(start, end) >= 0) return;
    const peer = this.peer(ctx);
    const range = clampToRegion(start, end, peer.region);
    if (!range) return;
    await this.write(peer, ctx, [
      { op: 'deleteRange', cf: 'raw', start: range.start, end: range.end },
    ]);
  }

  /** Put value iff the current value equals previous (null: iff the key is absent). */
  async compareAndSwap(
    ctx: RequestContext,
    key: Buffer,
    previous: Buffer | null,
    value: Buffer,
  ): Promise<{ succeeded: boolean; previous: Buffer | null }> {
    this.checkKey(key);
    this.checkValue(value);
    const peer = this.peer(ctx);
    this.disk?.checkWrite();
    peer.checkKey(key);
    const r = await this.write(peer, ctx, [{ op: 'cas', cf: 'raw', key, value, previous }]);
    this.store.flow.onWrite(peer.regionId, 1, key.length + value.length);
    return { succeeded: r.casSucceeded ?? false, previous: r.casPrevious ?? null };
  }
}

/** [start, end) intersected with the Region's range; undefined if empty. */
export function clampToRegion(
  start: Buffer,
  end: Buffer,
  r: Region,
): { start: Buffer; end: Buffer } | undefined {
  const s = Buffer.compare(start, r.startKey) >= 0 ? start : r.startKey;
  let e: Buffer;
  if (end.length === 0) e = r.endKey;
  else if (r.endKey.length === 0) e = end;
  else e = Buffer.compare(end, r.endKey) <= 0 ? end : r.endKey;
  if (e.length > 0 && Buffer.compare(s, e) >= 0) return undefined;
  return { start: s, end: e };
}

/**
 * The Region peer a request names, checked: this store, the Region, the epoch and
 * leadership (typed region errors otherwise). Keys are checked by the caller.
 */
export function checkedPeer(store: RaftStore, ctx: RequestContext): RegionPeer {
  if (ctx.storeId !== undefined && ctx.storeId !== 0 && ctx.storeId !== store.storeId) {
    throw new RegionError({
      kind: 'StoreNotMatch',
      requestStoreId: ctx.storeId,
      actualStoreId: store.storeId,
    });
  }
  // Without an epoch a request could act on a Region that split or merged under it. A
  // malformed request is refused as such before any state of this store is consulted, so
  // the answer does not depend on who leads the Region right now.
  if (!ctx.epoch) throw new InvalidRequestError('the request names no region epoch');
  const peer = store.peers.get(ctx.regionId);
  if (!peer) throw new RegionError({ kind: 'RegionNotFound', regionId: ctx.regionId });
  peer.checkRequest(ctx.epoch);
  return peer;
}

/**
 * Run f at a linearizable point. A read may wait (for a ReadIndex round, or for apply
 * to reach the read point) while a split or merge applies: it was checked against the
 * Region as it was when it arrived, so it is served only if the version is unchanged.
 */
export function linearizableRead<T>(store: RaftStore, peer: RegionPeer, f: () => T): Promise<T> {
  const version = peer.region.epoch.version;
  return new Promise<T>((resolve, reject) => {
    peer.read(() => {
      try {
        if (peer.region.epoch.version !== version) throw peer.epochNotMatch();
        resolve(f());
      } catch (e) {
        reject(e);
      }
    }, reject);
    store.schedule();
  });
}

/** An exactly-once session stamp must be well formed before it reaches the log. */
export function checkSession(s: SessionStamp | undefined): void {
  if (!s) return;
  if (s.id.length === 0 || s.id.length > MAX_SESSION_ID_BYTES)
    throw new InvalidRequestError(`session id must be 1..${MAX_SESSION_ID_BYTES} bytes`);
  if (s.seq === 0) throw new InvalidRequestError('a session request needs a seq above 0');
}

/** Key and value bytes of pairs (the flow a read or write reports). */
function pairsBytes(pairs: readonly { key: Buffer; value?: Buffer | null }[]): number {
  let bytes = 0;
  for (const p of pairs) bytes += p.key.length + (p.value?.length ?? 0);
  return bytes;
}
