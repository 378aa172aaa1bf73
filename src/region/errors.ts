// The typed Region errors of the design's contract. A store answers a request it cannot
// serve with one of these; the client's region cache repairs itself from it and retries.
import { Peer, Region, RegionId } from './meta.js';

export type RegionErrorDetail =
  | { kind: 'NotLeader'; regionId: RegionId; leader?: Peer }
  | { kind: 'EpochNotMatch'; currentRegions: Region[] }
  | { kind: 'RegionNotFound'; regionId: RegionId }
  | { kind: 'KeyNotInRegion'; key: Buffer; regionId: RegionId; startKey: Buffer; endKey: Buffer }
  | { kind: 'ServerIsBusy'; reason: string; backoffMs: number }
  | { kind: 'StoreNotMatch'; requestStoreId: number; actualStoreId: number }
  | { kind: 'RaftEntryTooLarge'; regionId: RegionId; entrySize: number }
  /** The proposal's entry was replaced by a newer leader's: it was NOT applied. */
  | { kind: 'StaleCommand'; regionId: RegionId }
  /**
   * The Region no longer remembers this request of the client's session (its number is
   * below the session's floor): it was not applied now, and whether an earlier attempt
   * was cannot be told. Never retried; the client reports the outcome as undetermined.
   */
  | { kind: 'SessionRecordGone'; regionId: RegionId; seq: number; floor: number }
  /** The store's free space is below its reserve: writes that add data are refused. */
  | { kind: 'DiskFull'; storeId: number; availableBytes: number; reserveBytes: number };

export class RegionError extends Error {
  constructor(
    readonly detail: RegionErrorDetail,
    message?: string,
  ) {
    super(message ?? describeRegionError(detail));
    this.name = 'RegionError';
  }

  get kind(): RegionErrorDetail['kind'] {
    return this.detail.kind;
  }
}

export function describeRegionError(d: RegionErrorDetail): string {
  switch (d.kind) {
    case 'NotLeader':
      return `region ${d.regionId}: not leader${d.leader ? `; leader is peer ${d.leader.id} on store ${d.leader.storeId}` : ''}`;
    case 'EpochNotMatch':
      return `epoch not match; current regions: ${d.currentRegions.map((r) => r.id).join(', ')}`;
    case 'RegionNotFound':
      return `region ${d.regionId} not found`;
    case 'KeyNotInRegion':
      return `key is not in region ${d.regionId}`;
    case 'ServerIsBusy':
      return `server is busy: ${d.reason}; retry in ${d.backoffMs} ms`;
    case 'StoreNotMatch':
      return `request for store ${d.requestStoreId} reached store ${d.actualStoreId}`;
    case 'RaftEntryTooLarge':
      return `region ${d.regionId}: raft entry of ${d.entrySize} bytes is too large`;
    case 'StaleCommand':
      return `region ${d.regionId}: stale command: a new leader replaced the entry before it committed`;
    case 'SessionRecordGone':
      return `region ${d.regionId}: request ${d.seq} of this session is below the session's floor ${d.floor}; its outcome is no longer known`;
    case 'DiskFull':
      return `store ${d.storeId} is almost out of disk space (${d.availableBytes} bytes free, ${d.reserveBytes} reserved): writes are refused until space returns`;
  }
}
