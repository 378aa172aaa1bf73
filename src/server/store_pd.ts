// The store's view of PD (StoreRegistrar, defined by the store layer) implemented over the
// shared PD client.
import { PdClient, type StoreHeartbeatReply } from '../client/pd_client.js';
import type { RegionInstruction } from '../client/region_heartbeat_stream.js';
import type { RaftTiming } from '../pd/raft_timing.js';
import type { StoreGcProgress } from '../pd/gc/safe_point.js';
import { Peer, Region } from '../region/meta.js';
import { StoreRegistrar } from './store_server.js';
import type { ClusterDeadlockService } from '../store/deadlock_detector.js';
import type { DownPeer } from '../store/peer_liveness.js';
import type { FlowReport } from '../store/region_flow.js';

export class StorePdAdapter implements StoreRegistrar {
  constructor(
    private readonly pd: PdClient,
    private readonly version: string,
  ) {}

  getClusterId(): Promise<number> {
    return this.pd.getClusterId();
  }

  allocId(): Promise<number> {
    return this.pd.allocId();
  }

  putStore(store: {
    id: number;
    address: string;
    statusAddress: string;
    raftTiming: RaftTiming;
  }): Promise<void> {
    return this.pd.putStore({ ...store, version: this.version });
  }

  async getStoreAddress(storeId: number): Promise<string> {
    const info = await this.pd.getStore(storeId);
    if (!info) throw new Error(`store ${storeId} is not known to PD`);
    return info.address;
  }

  getTimestamp(): Promise<bigint> {
    return this.pd.getTimestamp();
  }

  /** PD hosts the cluster's deadlock detector (src/pd/deadlock_detector.ts). */
  get deadlocks(): ClusterDeadlockService {
    return this.pd;
  }

  getGcSafePoint(progress: Omit<StoreGcProgress, 'reportedMs'>): Promise<bigint> {
    return this.pd.getGcSafePoint(progress);
  }

  storeHeartbeat(
    storeId: number,
    stats: { regionCount: number; leaderCount: number; isBusy: boolean },
    configVersion: number,
  ): Promise<StoreHeartbeatReply> {
    return this.pd.storeHeartbeat({ storeId, ...stats }, configVersion);
  }

  regionHeartbeat(hb: {
    region: Region;
    leader: Peer;
    term: number;
    pendingPeers?: Peer[];
    downPeers?: DownPeer[];
    approximateSize?: number;
    approximateKeys?: number;
    flow?: FlowReport;
  }): void {
    const { pendingPeers, downPeers, approximateSize, approximateKeys, flow, ...rest } = hb;
    const stats = {
      ...(pendingPeers ? { pendingPeers } : {}),
      ...(downPeers ? { downPeers } : {}),
      ...(approximateSize !== undefined ? { approximateSize, approximateKeys } : {}),
      ...(flow
        ? {
            readKeys: flow.readKeys,
            readBytes: flow.readBytes,
            writtenKeys: flow.writtenKeys,
            writtenBytes: flow.writtenBytes,
            intervalMs: flow.intervalMs,
          }
        : {}),
    };
    this.pd.regionHeartbeat(Object.keys(stats).length > 0 ? { ...rest, stats } : rest);
  }

  async getRegionById(id: number): Promise<Region | undefined> {
    return (await this.pd.getRegionById(id))?.region;
  }

  askBatchSplit(
    region: Region,
    count: number,
  ): Promise<{ newRegionId: number; newPeerIds: number[] }[]> {
    return this.pd.askBatchSplit(region, count);
  }

  onRegionInstruction(listener: (i: RegionInstruction) => void): () => void {
    return this.pd.onRegionHeartbeatReply((r) => {
      if (r.kind === 'instruction') listener(r.instruction);
    });
  }

  scanRegions(
    start: Buffer,
    end: Buffer,
    limit: number,
  ): Promise<{ region: Region; leader?: Peer }[]> {
    return this.pd.scanRegions(start, end, limit);
  }
}
