// Sends one request to one Region's leader and turns every way it can fail into one of
// two outcomes: a retry (after repairing the region cache and backing off) or a typed
// error. The operations of RawClient (and later the transactional client) are loops
// around send(): locate, send, and on a retry locate again, because after a split the
// keys of one request may belong to several Regions.
import { PdError as PdRefusal, PdErrorCode } from '../pd/errors.js';
import { regionErrorFromProto } from '../proto/convert_errors.js';
import { epochToProto, peerToProto } from '../proto/convert_meta.js';
import { toUint64 } from '../proto/uint64.js';
import type { Context } from '../proto-gen/nyx/kv/Context.js';
import type { RegionError } from '../region/errors.js';
import type { Backoffer } from './backoff.js';
import { RegionReachability } from './region_reachability.js';
import {
  ConnectionError,
  DiskFullError,
  EntryTooLargeError,
  NyxError,
  PdError,
  RegionUnavailableError,
  RequestTimeoutError,
  ServerError,
  UndeterminedError,
} from './errors.js';
import type { KvChannels, KvCommand, KvRequest, KvResponse } from './kv_connection.js';
import type { RegionCache, RegionLocation } from './region_cache.js';
import type { WriteTag } from './session.js';

export interface RegionRequestOptions {
  /** Upper bound of one attempt; the call's remaining time bounds it too. */
  rpcTimeoutMs: number;
  /** Use the shared BatchCommands stream (default) or one unary call per request. */
  useBatchCommands: boolean;
}

/** The fields every response has (a transactional one's `error` is a KeyError, left to its caller). */
interface ResponseHead {
  regionError?: Parameters<typeof regionErrorFromProto>[0];
  error?: unknown;
}

/**
 * Whether a failed PD lookup is worth another attempt: PD unreachable or not yet
 * bootstrapped, yes; a refusal, a closed client or a programming error, no (they
 * surface at once, as thrown).
 */
function pdRetryable(e: unknown): boolean {
  if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) {
    return false;
  }
  if (e instanceof PdRefusal) return e.code === PdErrorCode.NotBootstrapped;
  if (e instanceof NyxError) return e.retryable;
  if (e instanceof Error && e.name === 'PdClientClosedError') return false;
  return true;
}

/** The error to surface if the deadline ends the retries. */
function asPdError(e: unknown): NyxError {
  if (e instanceof NyxError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new PdError(`PD lookup failed: ${message}`, { cause: e });
}

/**
 * What each call saw of each Region's replicas while it failed to reach a leader: only
 * the failure paths touch it, so a call that succeeds at once never allocates one.
 */
const REACHABILITY = new WeakMap<Backoffer, Map<number, RegionReachability>>();

function reachability(bo: Backoffer, regionId: number): RegionReachability {
  let byRegion = REACHABILITY.get(bo);
  if (!byRegion) REACHABILITY.set(bo, (byRegion = new Map()));
  let r = byRegion.get(regionId);
  if (!r) byRegion.set(regionId, (r = new RegionReachability()));
  return r;
}

/** Contexts by the cached Region object they were built for (see context()). */
const CONTEXTS = new WeakMap<object, { leader: object; ctx: Context }>();

export class RegionRequestSender {
  constructor(
    readonly cache: RegionCache,
    readonly pool: KvChannels,
    private readonly options: RegionRequestOptions,
  ) {}

  /** Runs a PD-backed lookup, retrying PD trouble under the call's backoff. */
  async lookup<T>(bo: Backoffer, f: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await f();
      } catch (e) {
        if (!pdRetryable(e)) throw e;
        await bo.backoff('pd', asPdError(e));
      }
    }
  }

  locateKey(bo: Backoffer, key: Buffer): Promise<RegionLocation> {
    return this.lookup(bo, () => this.cache.locateKey(key));
  }

  locateRange(bo: Backoffer, start: Buffer, end: Buffer): Promise<RegionLocation[]> {
    return this.lookup(bo, () => this.cache.locateRange(start, end));
  }

  locateEndKey(bo: Backoffer, end: Buffer, lowerBound: Buffer): Promise<RegionLocation> {
    return this.lookup(bo, () => this.cache.locateEndKey(end, lowerBound));
  }

  /**
   * The request Context naming the Region, its epoch and the leader we expect. Built once
   * per (cached Region, leader) and reused by every request to it: the cache replaces a
   * Region's object whenever its epoch changes and its leader object whenever the leader
   * moves, so identity is a safe key. The ids go on the wire as numbers, not decimal
   * strings: the encoder turns a number into a 64-bit value directly, where a string is
   * parsed digit by digit on every request (a profile of 256 workers showed that parse
   * alone at 5% of the client's CPU).
   */
  static context(loc: RegionLocation): Context {
    const hit = CONTEXTS.get(loc.region);
    if (hit && hit.leader === loc.leader) return hit.ctx;
    const { region, leader } = loc;
    // The converters check once (safe, non-negative integers) what they checked per request.
    toUint64(region.id);
    epochToProto(region.epoch);
    const ctx: Context = {
      regionId: region.id,
      regionEpoch: { confVer: region.epoch.confVer, version: region.epoch.version },
      peer: { ...peerToProto(leader), id: leader.id, storeId: leader.storeId },
    };
    CONTEXTS.set(region, { leader, ctx });
    return ctx;
  }

  /**
   * One attempt at loc's leader. Returns the response, or undefined when the caller
   * should locate again and retry (the cache is already repaired and the backoff
   * slept). Throws when the deadline passed or the failure is not retryable.
   *
   * A write passes its tag: the request then carries its session number (the same on
   * every retry, so the Region applies it at most once), and an attempt that ends
   * without a definite answer marks the call ambiguous.
   */
  async send<C extends KvCommand>(
    bo: Backoffer,
    loc: RegionLocation,
    cmd: C,
    build: (ctx: Context) => KvRequest<C>,
    write?: WriteTag,
  ): Promise<KvResponse<C> | undefined> {
    let address: string;
    try {
      address = await this.cache.storeAddress(loc.leader.storeId);
    } catch (e) {
      if (!pdRetryable(e)) throw e;
      await bo.backoff('pd', asPdError(e));
      return undefined;
    }

    let resp: KvResponse<C>;
    try {
      const conn = this.pool.get(address);
      const timeout = Math.max(1, Math.min(this.options.rpcTimeoutMs, bo.remainingMs()));
      const ctx = RegionRequestSender.context(loc);
      const req = build(write ? { ...ctx, ...write.call.fields(write.seq) } : ctx);
      resp = this.options.useBatchCommands
        ? await conn.send(cmd, req, timeout)
        : await conn.unary(cmd, req, timeout);
    } catch (e) {
      if (!(e instanceof ConnectionError)) throw e;
      // The request may have reached the store and been applied.
      if (write) write.call.ambiguous = true;
      // The store may be down for good: try another peer, and its address afresh.
      this.cache.onSendFail(loc);
      // A store that timed out may be slow, not gone: the timeout is the truer answer.
      if (e instanceof RequestTimeoutError) {
        await bo.backoff('connection', e);
        return undefined;
      }
      const reach = reachability(bo, loc.region.id);
      reach.unreachableStore(loc.leader.storeId);
      await bo.backoff('connection', reach.giveUpError(loc.region, e));
      return undefined;
    }

    const head = resp as ResponseHead;
    const regionError = regionErrorFromProto(head.regionError);
    if (regionError) {
      if (write) this.noteWriteOutcome(write, loc, regionError);
      await this.onRegionError(bo, loc, regionError);
      return undefined;
    }
    if (typeof head.error === 'string' && head.error) throw new ServerError(head.error);
    this.cache.onSuccess(loc);
    return resp;
  }

  /** What a region error tells about a write's fate. */
  private noteWriteOutcome(write: WriteTag, loc: RegionLocation, err: RegionError): void {
    switch (err.detail.kind) {
      case 'ServerIsBusy':
        // Among other causes, a proposal that waited too long for Raft: it may still commit.
        write.call.ambiguous = true;
        return;
      case 'SessionRecordGone':
        throw new UndeterminedError(
          `region ${loc.region.id} no longer remembers this write; it may or may not have been applied`,
          { cause: err },
        );
      default:
        return;
    }
  }

  /** Repairs the cache from a region error and backs off according to its kind. */
  private async onRegionError(bo: Backoffer, loc: RegionLocation, err: RegionError): Promise<void> {
    const d = err.detail;
    const giveUp = new RegionUnavailableError(loc.region.id, err);
    switch (d.kind) {
      case 'NotLeader': {
        const reach = reachability(bo, loc.region.id);
        if (d.leader) {
          reach.answered(loc.leader.storeId, d.leader.storeId);
          const kept = this.cache.onNotLeader(loc, d.leader);
          await bo.backoff(kept ? 'updateLeader' : 'regionMiss', giveUp);
        } else {
          reach.answered(loc.leader.storeId, undefined);
          this.cache.onNotLeader(loc);
          await bo.backoff('noLeader', reach.giveUpError(loc.region, giveUp));
        }
        return;
      }
      case 'EpochNotMatch':
        this.cache.onEpochNotMatch(loc, d.currentRegions, loc.leader.storeId);
        await bo.backoff(d.currentRegions.length > 0 ? 'updateLeader' : 'regionMiss', giveUp);
        return;
      case 'StoreNotMatch':
        this.cache.invalidateStore(loc.leader.storeId);
        this.cache.invalidate(loc.region.id);
        await bo.backoff('regionMiss', giveUp);
        return;
      case 'RegionNotFound':
      case 'KeyNotInRegion':
        this.cache.invalidate(loc.region.id);
        await bo.backoff('regionMiss', giveUp);
        return;
      case 'ServerIsBusy':
        await bo.backoff('serverBusy', giveUp, d.backoffMs);
        return;
      case 'StaleCommand':
        // A new leader replaced the entry: it was not applied. Ask the same store again;
        // if it is no longer the leader, its NotLeader answer names the new one.
        await bo.backoff('updateLeader', giveUp);
        return;
      case 'SessionRecordGone':
        // Reached only without a write tag (noteWriteOutcome throws first).
        throw new UndeterminedError(giveUp.message, { cause: err });
      case 'RaftEntryTooLarge':
        throw new EntryTooLargeError(d.regionId, d.entrySize);
      case 'DiskFull':
        // Waiting out a full disk inside one call would only hide it: tell the caller now.
        throw new DiskFullError(d.storeId, err.message);
    }
  }
}
