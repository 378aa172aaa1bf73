// Store metadata as PD keeps it. Region types live in src/region/meta.ts; these are the
// PD-side facts about a store process: where it listens and whether it is still in service.

import type { StoreId } from '../region/meta.js';

/**
 * Up: in service. Offline: being drained, still holds data, may come back Up.
 * Tombstone: gone for good; its id and address are never reused by PD.
 */
export enum StoreState {
  Up = 'Up',
  Offline = 'Offline',
  Tombstone = 'Tombstone',
}

export interface StoreLabel {
  key: string;
  value: string;
}

export interface StoreMeta {
  id: StoreId;
  /** gRPC address, host:port. */
  address: string;
  /** HTTP status address (metrics, health), host:port; may be empty. */
  statusAddress: string;
  state: StoreState;
  labels: StoreLabel[];
  /** Wall-clock ms of the last store heartbeat; 0 if none yet. */
  lastHeartbeatMs: number;
}

/** The volatile part of a store heartbeat: PD keeps it in memory only. */
export interface StoreStats {
  capacity?: number;
  available?: number;
  usedSize?: number;
  regionCount?: number;
  sendingSnapCount?: number;
  receivingSnapCount?: number;
  isBusy?: boolean;
}

export function cloneStore(s: StoreMeta): StoreMeta {
  return { ...s, labels: s.labels.map((l) => ({ ...l })) };
}
