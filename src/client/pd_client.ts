// The PD client shared by stores and the SDK. It speaks domain types (src/region/meta.ts,
// src/pd/types.ts) and hides the wire: ids as numbers, timestamps as bigints, typed errors.
//
//   const pd = PdClient.connect('127.0.0.1:2379');
//   const ts = await pd.getTimestamp();
//   const { region, leader } = (await pd.getRegion(Buffer.from('k')))!;
//   pd.close();
//
// Connecting is lazy: nothing touches the network until the first call. Unary calls have
// a per-attempt deadline and are retried with bounded exponential backoff (rotating
// through the endpoints) until an overall timeout, then fail with PdUnavailableError
// naming the address and the cause. A refusal from PD (header.error) is a PdError with
// its code and is not retried: the caller decides. The cluster id is learned from the
// first answer (or given) and sent on every request, so a client that is pointed at
// another cluster gets ClusterIdMismatch instead of silently mixing clusters.
import type * as grpc from '@grpc/grpc-js';
import type { RegionHeartbeat, RegionInfo } from '../pd/cluster.js';
import type { ConfigEntry, ConfigItemView } from '../pd/config/pd_config.js';
import type { ConfigType } from '../pd/config/schema.js';
import { PdError, PdErrorCode } from '../pd/errors.js';
import type { InitialLayout } from '../pd/initial_regions.js';
import type { RaftTiming } from '../pd/raft_timing.js';
import type { StoreLiveness } from '../pd/store_liveness.js';
import type { StoreLabel, StoreMeta } from '../pd/types.js';
import type { Region, RegionId, StoreId } from '../region/meta.js';
import { regionFromProto, regionToProto, storeFromProto } from '../proto/convert_meta.js';
import type { AskBatchSplitResponse__Output } from '../proto-gen/nyx/pd/AskBatchSplitResponse.js';
import type { MergeRegionsResponse__Output } from '../proto-gen/nyx/pd/MergeRegionsResponse.js';
import type { SplitRegionsResponse__Output } from '../proto-gen/nyx/pd/SplitRegionsResponse.js';
import type { GetGCSafePointResponse__Output } from '../proto-gen/nyx/pd/GetGCSafePointResponse.js';
import type { GetGCStatusResponse__Output } from '../proto-gen/nyx/pd/GetGCStatusResponse.js';
import type { DetectDeadlockResponse__Output } from '../proto-gen/nyx/pd/DetectDeadlockResponse.js';
import type { UpdateServiceGCSafePointResponse__Output } from '../proto-gen/nyx/pd/UpdateServiceGCSafePointResponse.js';
import type { ServiceSafePoint, ServiceUpdate, StoreGcProgress } from '../pd/gc/safe_point.js';
import { progressFromProto, progressToProto } from '../proto/convert_gc.js';
import {
  pdErrorFromProto,
  regionInfoFromProto,
  regionLookupFromProto,
  type RegionLookup,
  storeStatsFromProto,
  storeStatsToProto,
  type StoreHeartbeatStats,
} from '../proto/convert_pd.js';
import type { PDClient } from '../proto/load.js';
import { toInt64, toUint64, uint64ToNumber } from '../proto/uint64.js';
import type { AllocIDResponse__Output } from '../proto-gen/nyx/pd/AllocIDResponse.js';
import type { BootstrapResponse__Output } from '../proto-gen/nyx/pd/BootstrapResponse.js';
import type { ConfigItem__Output } from '../proto-gen/nyx/pd/ConfigItem.js';
import type { GetConfigResponse__Output } from '../proto-gen/nyx/pd/GetConfigResponse.js';
import type { SetConfigResponse__Output } from '../proto-gen/nyx/pd/SetConfigResponse.js';
import type { GetAllStoresResponse__Output } from '../proto-gen/nyx/pd/GetAllStoresResponse.js';
import type { GetRegionResponse__Output } from '../proto-gen/nyx/pd/GetRegionResponse.js';
import type { GetStoreResponse__Output } from '../proto-gen/nyx/pd/GetStoreResponse.js';
import type { IsBootstrappedResponse__Output } from '../proto-gen/nyx/pd/IsBootstrappedResponse.js';
import type { PutStoreResponse__Output } from '../proto-gen/nyx/pd/PutStoreResponse.js';
import type { ScanRegionsResponse__Output } from '../proto-gen/nyx/pd/ScanRegionsResponse.js';
import type { StoreHeartbeatResponse__Output } from '../proto-gen/nyx/pd/StoreHeartbeatResponse.js';
import type { RequestHeader } from '../proto-gen/nyx/pd/RequestHeader.js';
import type { ResponseHeader__Output } from '../proto-gen/nyx/pd/ResponseHeader.js';
import { Backoff, sleep } from './backoff.js';
import { normalizeEndpoints, PdConnection } from './pd_connection.js';
import {
  describeGrpcFailure,
  isRetryableGrpcError,
  PdClientClosedError,
  PdUnavailableError,
} from './pd_errors.js';
import type { PdStreamContext } from './pd_stream_context.js';
import { RegionHeartbeatStream, type RegionHeartbeatListener } from './region_heartbeat_stream.js';
import { TsoBatcher } from './tso_batcher.js';
import type { RegionExplanation } from '../pd/schedule/coordinator.js';
import type { SchedulerView } from '../pd/schedule/scheduler_registry.js';
import { explanationFromProto, schedulerFromProto } from '../proto/convert_schedule.js';
import type { RemoveStoreResponse__Output } from '../proto-gen/nyx/pd/RemoveStoreResponse.js';
import type { ListSchedulersResponse__Output } from '../proto-gen/nyx/pd/ListSchedulersResponse.js';
import type { ChangeSchedulerResponse__Output } from '../proto-gen/nyx/pd/ChangeSchedulerResponse.js';
import type { ExplainRegionResponse__Output } from '../proto-gen/nyx/pd/ExplainRegionResponse.js';
import { operatorFromProto, type OperatorView } from '../proto/convert_operator.js';
import type { AddOperatorResponse__Output } from '../proto-gen/nyx/pd/AddOperatorResponse.js';
import type { ListOperatorsResponse__Output } from '../proto-gen/nyx/pd/ListOperatorsResponse.js';

export type { StoreHeartbeatStats } from '../proto/convert_pd.js';
export type { RegionInfo } from '../pd/cluster.js';
export type {
  RegionHeartbeatListener,
  RegionHeartbeatReply,
  RegionInstruction,
} from './region_heartbeat_stream.js';

export const DEFAULT_PD_ENDPOINT = '127.0.0.1:2379';

/** PD's GC state (GetGCStatus). */
export interface GcStatus {
  safePoint: bigint;
  gcLifeTimeMs: number;
  /** PD's clock when it answered (ages are against it). */
  nowMs: number;
  services: ServiceSafePoint[];
  stores: StoreGcProgress[];
}

export interface PdClientOptions {
  /** The cluster this client belongs to (a store knows it); default: learned from PD. */
  clusterId?: number;
  /** The sending store's id, for PD's logs; 0 for SDK clients. */
  senderId?: number;
  /** Deadline of one attempt (ms). */
  rpcTimeoutMs?: number;
  /** How long a call may take in total, across retries (ms). */
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Channel credentials (mutual TLS: TlsFiles#channelCredentials); default plaintext. */
  credentials?: grpc.ChannelCredentials;
}

export interface PutStoreInput {
  id: StoreId;
  address: string;
  statusAddress?: string;
  labels?: StoreLabel[];
  /** The nyx version the store runs. */
  version?: string;
  /** The store's Raft timing, which PD holds cluster-wide (see src/pd/raft_timing.ts). */
  raftTiming?: RaftTiming;
}

/** PD's answer to a store heartbeat. */
export interface StoreHeartbeatReply {
  requireRegionHeartbeats: boolean;
  /** PD's settings, when they changed since the version the store sent. */
  config?: { version: number; entries: ConfigEntry[] };
}

/** A store as PD knows it, with its last heartbeat's stats if it sent one. */
export interface StoreInfo {
  store: StoreMeta;
  stats?: StoreHeartbeatStats;
  /** Up, Disconnected, Down, Offline or Tombstone, as PD judges it now. */
  liveness?: StoreLiveness;
  /** ms since PD's last heartbeat from the store, by PD's clock; null: never. */
  heartbeatAgeMs?: number | null;
}

interface HasHeader {
  header: ResponseHeader__Output | null;
}

type Invoke<Res> = (
  client: PDClient,
  header: RequestHeader,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Res>,
) => void;

export class PdClient {
  private readonly conn: PdConnection;
  private clusterId: number | undefined;
  private readonly senderId: number;
  private readonly rpcTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly ctx: PdStreamContext;
  private tso: TsoBatcher | undefined;
  private heartbeats: RegionHeartbeatStream | undefined;
  private closed = false;

  private constructor(endpoints: string[], opts: PdClientOptions) {
    this.conn = new PdConnection(endpoints, opts.credentials);
    this.clusterId = opts.clusterId;
    this.senderId = opts.senderId ?? 0;
    this.rpcTimeoutMs = opts.rpcTimeoutMs ?? 3000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.backoffBaseMs = opts.backoffBaseMs ?? 50;
    this.backoffMaxMs = opts.backoffMaxMs ?? 1000;
    this.ctx = {
      conn: this.conn,
      header: () => this.header(),
      checkHeader: (h) => this.checkHeader(h),
      rpcTimeoutMs: this.rpcTimeoutMs,
      timeoutMs: this.timeoutMs,
      backoffBaseMs: this.backoffBaseMs,
      backoffMaxMs: this.backoffMaxMs,
    };
  }

  /** A client for one PD or several ("a:2379,b:2379" or a list); connects on first use. */
  static connect(
    endpoints: string | string[] = DEFAULT_PD_ENDPOINT,
    opts: PdClientOptions = {},
  ): PdClient {
    return new PdClient(normalizeEndpoints(endpoints), opts);
  }

  get endpoints(): readonly string[] {
    return this.conn.endpoints;
  }

  /** The cluster id, asking PD if it is not known yet. */
  async getClusterId(): Promise<number> {
    if (this.clusterId === undefined) await this.isBootstrapped();
    return this.clusterId!;
  }

  async isBootstrapped(): Promise<boolean> {
    const res = await this.unary<IsBootstrappedResponse__Output>((c, header, o, cb) =>
      c.IsBootstrapped({ header }, o, cb),
    );
    return res.bootstrapped;
  }

  /** Explicit bootstrap (tools); stores normally rely on PD bootstrapping by itself. */
  async bootstrap(layout: InitialLayout, storeIds: StoreId[] = []): Promise<Region[]> {
    const req = {
      splitKeys: 'splitKeys' in layout ? layout.splitKeys.map((k) => Buffer.from(k)) : [],
      evenSplits: 'evenSplits' in layout ? layout.evenSplits : 0,
      storeIds: storeIds.map((id) => toUint64(id)),
    };
    const res = await this.unary<BootstrapResponse__Output>((c, header, o, cb) =>
      c.Bootstrap({ ...req, header }, o, cb),
    );
    return res.regions.map(regionFromProto);
  }

  async allocId(): Promise<number> {
    const res = await this.unary<AllocIDResponse__Output>((c, header, o, cb) =>
      c.AllocID({ header }, o, cb),
    );
    return uint64ToNumber(res.id, 'allocated id');
  }

  async putStore(store: PutStoreInput): Promise<void> {
    const msg = {
      id: toUint64(store.id),
      address: store.address,
      statusAddress: store.statusAddress ?? '',
      labels: store.labels ?? [],
      version: store.version ?? '',
    };
    const timing = {
      tickMs: store.raftTiming?.tickMs ?? 0,
      electionTicks: store.raftTiming?.electionTicks ?? 0,
    };
    await this.unary<PutStoreResponse__Output>((c, header, o, cb) =>
      c.PutStore({ header, store: msg, ...timing }, o, cb),
    );
  }

  /** The store, or undefined if PD does not know it. */
  async getStore(id: StoreId): Promise<StoreMeta | undefined> {
    return (await this.getStoreInfo(id))?.store;
  }

  /** The store with its last heartbeat's stats, or undefined if PD does not know it. */
  async getStoreInfo(id: StoreId): Promise<StoreInfo | undefined> {
    const storeId = toUint64(id);
    const res = await this.orNotFound(PdErrorCode.StoreNotFound, () =>
      this.unary<GetStoreResponse__Output>((c, header, o, cb) =>
        c.GetStore({ header, storeId }, o, cb),
      ),
    );
    if (!res?.store) return undefined;
    const store = storeFromProto(res.store);
    const age = Number(res.heartbeatAgeMs);
    return {
      store,
      ...(res.stats ? { stats: storeStatsFromProto(res.stats) } : {}),
      // An older PD sends neither: undefined, not a made-up state.
      ...(res.liveness ? { liveness: res.liveness as StoreLiveness } : {}),
      heartbeatAgeMs: res.liveness ? (age >= 0 ? age : null) : undefined,
    };
  }

  async getAllStores(excludeTombstones = false): Promise<StoreMeta[]> {
    const res = await this.unary<GetAllStoresResponse__Output>((c, header, o, cb) =>
      c.GetAllStores({ header, excludeTombstoneStores: excludeTombstones }, o, cb),
    );
    return res.stores.map(storeFromProto);
  }

  /**
   * Returns whether PD asks for every Region heartbeat now (it restarted), and PD's
   * settings when its config version differs from `configVersion` (the one the store has).
   */
  async storeHeartbeat(
    stats: StoreHeartbeatStats,
    configVersion = 0,
  ): Promise<StoreHeartbeatReply> {
    const msg = storeStatsToProto(stats);
    const res = await this.unary<StoreHeartbeatResponse__Output>((c, header, o, cb) =>
      c.StoreHeartbeat({ header, stats: msg, configVersion: toUint64(configVersion) }, o, cb),
    );
    const version = uint64ToNumber(res.configVersion, 'config version');
    return {
      requireRegionHeartbeats: res.requireRegionHeartbeats,
      config:
        res.config.length > 0
          ? { version, entries: res.config.map((e) => ({ name: e.name, value: e.value })) }
          : undefined,
    };
  }

  /** Every PD setting with its value, default and meaning, and the config version. */
  async getConfig(): Promise<{ items: ConfigItemView[]; version: number }> {
    const res = await this.unary<GetConfigResponse__Output>((c, header, o, cb) =>
      c.GetConfig({ header }, o, cb),
    );
    return {
      items: res.items.map(configItemFromProto),
      version: uint64ToNumber(res.version, 'config version'),
    };
  }

  /** Changes one PD setting; PD refuses (InvalidArgument) a value it cannot take. */
  async setConfig(
    name: string,
    value: string,
  ): Promise<{ old: ConfigItemView; now: ConfigItemView; version: number }> {
    const res = await this.unary<SetConfigResponse__Output>((c, header, o, cb) =>
      c.SetConfig({ header, name, value }, o, cb),
    );
    if (!res.item || !res.oldItem) throw new Error('SetConfig answered without the setting');
    return {
      old: configItemFromProto(res.oldItem),
      now: configItemFromProto(res.item),
      version: uint64ToNumber(res.version, 'config version'),
    };
  }

  /**
   * Sends a leader's Region heartbeat on the shared stream; returns at once. PD's answers
   * (instructions, or refusals such as a stale epoch) reach onRegionHeartbeatReply.
   */
  regionHeartbeat(hb: RegionHeartbeat): void {
    this.heartbeatStream().send(hb);
  }

  /** Subscribes to PD's answers on the Region heartbeat stream; returns an unsubscribe. */
  onRegionHeartbeatReply(listener: RegionHeartbeatListener): () => void {
    return this.heartbeatStream().onReply(listener);
  }

  /** The Region holding key and its leader (if one has reported), or undefined. */
  async getRegion(key: Uint8Array): Promise<RegionLookup | undefined> {
    const regionKey = Buffer.from(key);
    const res = await this.orNotFound(PdErrorCode.RegionNotFound, () =>
      this.unary<GetRegionResponse__Output>((c, header, o, cb) =>
        c.GetRegion({ header, regionKey }, o, cb),
      ),
    );
    return res?.region ? regionLookupFromProto(res) : undefined;
  }

  async getRegionById(id: RegionId): Promise<RegionLookup | undefined> {
    const regionId = toUint64(id);
    const res = await this.orNotFound(PdErrorCode.RegionNotFound, () =>
      this.unary<GetRegionResponse__Output>((c, header, o, cb) =>
        c.GetRegionByID({ header, regionId }, o, cb),
      ),
    );
    return res?.region ? regionLookupFromProto(res) : undefined;
  }

  /** Regions overlapping [start, end) in key order; empty end: no bound; limit 0: all. */
  async scanRegions(start: Uint8Array, end: Uint8Array, limit = 0): Promise<RegionInfo[]> {
    const req = { startKey: Buffer.from(start), endKey: Buffer.from(end), limit };
    const res = await this.unary<ScanRegionsResponse__Output>((c, header, o, cb) =>
      c.ScanRegions({ ...req, header }, o, cb),
    );
    return res.regions.map(regionInfoFromProto);
  }

  /** Ids for a batch split of `region` as its leader sees it (AskBatchSplit). */
  async askBatchSplit(
    region: Region,
    count: number,
  ): Promise<{ newRegionId: number; newPeerIds: number[] }[]> {
    const res = await this.unary<AskBatchSplitResponse__Output>((c, header, o, cb) =>
      c.AskBatchSplit({ header, region: regionToProto(region), splitCount: count }, o, cb),
    );
    return res.ids.map((x) => ({
      newRegionId: uint64ToNumber(x.newRegionId, 'region id'),
      newPeerIds: x.newPeerIds.map((p) => uint64ToNumber(p, 'peer id')),
    }));
  }

  /**
   * Split a Region at keys by hand (regionId 0: the Region holding the first key); resolves
   * with the Regions that cover the old one's range once PD's map shows them.
   */
  async splitRegions(
    regionId: RegionId,
    keys: Uint8Array[],
    timeoutMs = 10_000,
  ): Promise<RegionInfo[]> {
    const req = {
      regionId: toUint64(regionId),
      splitKeys: keys.map((k) => Buffer.from(k)),
      timeoutMs,
    };
    const res = await this.unary<SplitRegionsResponse__Output>(
      (c, header, o, cb) => c.SplitRegions({ ...req, header }, o, cb),
      timeoutMs + 2_000,
    );
    return res.regions.map(regionInfoFromProto);
  }

  /**
   * Merge the Region `sourceId` into its neighbour `targetId` by hand; resolves with the
   * merged Region once PD's map shows it.
   */
  async mergeRegions(
    sourceId: RegionId,
    targetId: RegionId,
    timeoutMs = 20_000,
  ): Promise<RegionInfo> {
    const req = { sourceId: toUint64(sourceId), targetId: toUint64(targetId), timeoutMs };
    const res = await this.unary<MergeRegionsResponse__Output>(
      (c, header, o, cb) => c.MergeRegions({ ...req, header }, o, cb),
      timeoutMs + 2_000,
    );
    if (!res.region) throw new Error('PD answered a merge without the merged region');
    return regionInfoFromProto(res.region);
  }

  // --- GC safe point (src/pd/gc/safe_point.ts) ---

  /** The GC safe point (PD advances it first); a store sends its progress along. */
  async getGcSafePoint(progress?: Omit<StoreGcProgress, 'reportedMs'>): Promise<bigint> {
    const p = progress && progressToProto({ ...progress, reportedMs: 0 });
    const res = await this.unary<GetGCSafePointResponse__Output>((c, header, o, cb) =>
      c.GetGCSafePoint({ header, ...(p ? { progress: p } : {}) }, o, cb),
    );
    return BigInt(res.safePoint);
  }

  /** Registers (ttlSec > 0) or removes (ttlSec <= 0) a service safe point. */
  async updateServiceGcSafePoint(
    serviceId: string,
    ttlSec: number,
    safePoint: bigint,
  ): Promise<ServiceUpdate> {
    const req = { serviceId, ttl: toInt64(ttlSec), safePoint: toUint64(safePoint) };
    const res = await this.unary<UpdateServiceGCSafePointResponse__Output>((c, header, o, cb) =>
      c.UpdateServiceGCSafePoint({ ...req, header }, o, cb),
    );
    return {
      accepted: res.accepted,
      gcSafePoint: BigInt(res.gcSafePoint),
      minServiceSafePoint: BigInt(res.minServiceSafePoint),
    };
  }

  /**
   * Asks the cluster's deadlock detector before txn waits for waitFor's lock on key: the
   * cycle the wait would close (starting with it), or undefined when it was recorded.
   */
  async detectDeadlock(
    txn: bigint,
    waitFor: bigint,
    key: Buffer,
  ): Promise<{ txn: bigint; waitForTxn: bigint; key: Buffer }[] | undefined> {
    const edge = { txn: toUint64(txn), waitForTxn: toUint64(waitFor), key };
    const res = await this.unary<DetectDeadlockResponse__Output>((c, header, o, cb) =>
      c.DetectDeadlock({ header, kind: 'DETECT', edge }, o, cb),
    );
    if (res.waitChain.length === 0) return undefined;
    return res.waitChain.map((e) => ({
      txn: BigInt(e.txn),
      waitForTxn: BigInt(e.waitForTxn),
      key: e.key,
    }));
  }

  /** The wait of txn for waitFor ended: its edge leaves the detector's graph. */
  async cleanUpWait(txn: bigint, waitFor: bigint): Promise<void> {
    const edge = { txn: toUint64(txn), waitForTxn: toUint64(waitFor), key: Buffer.alloc(0) };
    await this.unary<DetectDeadlockResponse__Output>((c, header, o, cb) =>
      c.DetectDeadlock({ header, kind: 'CLEAN_UP_WAIT', edge }, o, cb),
    );
  }

  /** Everything `nyx gc status` shows. */
  async getGcStatus(): Promise<GcStatus> {
    const res = await this.unary<GetGCStatusResponse__Output>((c, header, o, cb) =>
      c.GetGCStatus({ header }, o, cb),
    );
    return {
      safePoint: BigInt(res.safePoint),
      gcLifeTimeMs: Number(res.gcLifeTimeMs),
      nowMs: Number(res.nowMs),
      services: res.services.map((s) => ({
        serviceId: s.serviceId,
        safePoint: BigInt(s.safePoint),
        expiresAtMs: Number(s.expiresAtMs),
      })),
      stores: res.stores.map(progressFromProto),
    };
  }

  // --- scheduling ---

  /** `nyx store remove`: the store becomes Offline (a Tombstone at once if it holds nothing). */
  async removeStore(id: StoreId): Promise<StoreMeta> {
    const res = await this.unary<RemoveStoreResponse__Output>((c, header, o, cb) =>
      c.RemoveStore({ header, storeId: toUint64(id) }, o, cb),
    );
    if (!res.store) throw new Error('RemoveStore answered without the store');
    return storeFromProto(res.store);
  }

  /** Every scheduler PD knows, with its state (running, paused, removed). */
  async listSchedulers(): Promise<SchedulerView[]> {
    const res = await this.unary<ListSchedulersResponse__Output>((c, header, o, cb) =>
      c.ListSchedulers({ header }, o, cb),
    );
    return res.schedulers.map(schedulerFromProto);
  }

  /** Adds, removes, pauses (for pauseMs) or resumes a scheduler; persisted by PD. */
  async changeScheduler(
    name: string,
    action: 'add' | 'remove' | 'pause' | 'resume',
    pauseMs = 0,
  ): Promise<SchedulerView> {
    const res = await this.unary<ChangeSchedulerResponse__Output>((c, header, o, cb) =>
      c.ChangeScheduler({ header, name, action, pauseMs: toUint64(pauseMs) }, o, cb),
    );
    if (!res.scheduler) throw new Error('ChangeScheduler answered without the scheduler');
    return schedulerFromProto(res.scheduler);
  }

  /** Why PD does or does not act on a Region now (RegionNotFound for an unknown id). */
  async explainRegion(id: RegionId): Promise<RegionExplanation> {
    const res = await this.unary<ExplainRegionResponse__Output>((c, header, o, cb) =>
      c.ExplainRegion({ header, regionId: toUint64(id) }, o, cb),
    );
    return explanationFromProto(res);
  }

  // --- operators (nyx operator ...) ---

  /** Ask PD for an admin operator (add-peer, add-learner, remove-peer, transfer-leader, move-peer). */
  async addOperator(
    regionId: RegionId,
    kind: string,
    storeIds: StoreId[],
    timeoutMs = 0,
  ): Promise<OperatorView> {
    const req = { regionId: toUint64(regionId), kind, storeIds: storeIds.map(toUint64), timeoutMs };
    const res = await this.unary<AddOperatorResponse__Output>((c, header, o, cb) =>
      c.AddOperator({ ...req, header }, o, cb),
    );
    return operatorFromProto(res.operator!);
  }

  /** The Region's running operator, else its last ended one; undefined if none. */
  async getOperator(regionId: RegionId): Promise<OperatorView | undefined> {
    try {
      const res = await this.unary<AddOperatorResponse__Output>((c, header, o, cb) =>
        c.GetOperator({ header, regionId: toUint64(regionId) }, o, cb),
      );
      return operatorFromProto(res.operator!);
    } catch (e) {
      if (e instanceof PdError && e.code === PdErrorCode.OperatorNotFound) return undefined;
      throw e;
    }
  }

  async listOperators(includeEnded = false): Promise<OperatorView[]> {
    const res = await this.unary<ListOperatorsResponse__Output>((c, header, o, cb) =>
      c.ListOperators({ header, includeEnded }, o, cb),
    );
    return res.operators.map(operatorFromProto);
  }

  async cancelOperator(regionId: RegionId): Promise<OperatorView> {
    const res = await this.unary<AddOperatorResponse__Output>((c, header, o, cb) =>
      c.CancelOperator({ header, regionId: toUint64(regionId) }, o, cb),
    );
    return operatorFromProto(res.operator!);
  }

  /**
   * One timestamp, strictly greater than any this cluster handed out before. Concurrent
   * callers share one stream request per event-loop turn.
   */
  getTimestamp(): Promise<bigint> {
    if (this.closed) return Promise.reject(new PdClientClosedError());
    this.tso ??= new TsoBatcher(this.ctx);
    return this.tso.getTimestamp();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tso?.close();
    this.heartbeats?.close();
    this.conn.close();
  }

  // --- plumbing ---

  private heartbeatStream(): RegionHeartbeatStream {
    this.heartbeats ??= new RegionHeartbeatStream(this.ctx);
    return this.heartbeats;
  }

  private header(): RequestHeader {
    return { clusterId: toUint64(this.clusterId ?? 0), senderId: toUint64(this.senderId) };
  }

  /** Adopts the cluster id on first contact; refuses answers from another cluster. */
  private checkHeader(h: ResponseHeader__Output | null): void {
    if (h?.error) throw pdErrorFromProto(h.error);
    if (!h) return;
    const id = uint64ToNumber(h.clusterId, 'cluster id');
    if (this.clusterId === undefined) this.clusterId = id;
    else if (id !== this.clusterId) {
      throw new PdError(
        PdErrorCode.ClusterIdMismatch,
        `PD answered for cluster ${id}, but this client belongs to cluster ${this.clusterId}`,
      );
    }
  }

  private async orNotFound<T>(code: PdErrorCode, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof PdError && e.code === code) return undefined;
      throw e;
    }
  }

  /** One unary call with per-attempt deadlines, retries and endpoint rotation. */
  private async unary<Res extends HasHeader>(
    invoke: Invoke<Res>,
    /** A call that waits on purpose (SplitRegions) gets its own attempt deadline. */
    attemptMs = this.rpcTimeoutMs,
  ): Promise<Res> {
    const giveUpAt = Date.now() + Math.max(this.timeoutMs, attemptMs);
    const backoff = new Backoff({ baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs });
    // The last failure that said more than "timed out": an attempt that runs out of time
    // after refused connections was, in all likelihood, refused again, and the refusal is
    // what the caller needs to hear ("cannot reach PD at … (connection refused)").
    let telling: string | undefined;
    for (;;) {
      if (this.closed) throw new PdClientClosedError();
      const { address, client } = this.conn.current();
      const deadline = new Date(Math.min(Date.now() + attemptMs, giveUpAt));
      let res: Res;
      try {
        res = await new Promise<Res>((resolve, reject) =>
          invoke(client, this.header(), { deadline }, (err, r) =>
            err ? reject(err) : resolve(r!),
          ),
        );
      } catch (e) {
        if (this.closed) throw new PdClientClosedError();
        const reason = describeGrpcFailure(e);
        if (!isRetryableGrpcError(e)) throw new PdUnavailableError(address, reason, { cause: e });
        if (reason !== 'timed out') telling = reason;
        this.conn.rotate(address);
        const wait = backoff.next();
        if (Date.now() + wait >= giveUpAt) {
          const why = reason === 'timed out' ? (telling ?? reason) : reason;
          throw new PdUnavailableError(this.conn.description, why, { cause: e });
        }
        await sleep(wait);
        continue;
      }
      this.checkHeader(res.header);
      return res;
    }
  }
}

function configItemFromProto(i: ConfigItem__Output): ConfigItemView {
  return {
    name: i.name,
    type: i.type as ConfigType,
    value: i.value,
    default: i.defaultValue,
    description: i.description,
  };
}
