// GC progress and service safe points between the wire (proto/pd.proto) and
// src/pd/gc/safe_point.ts; shared by PD's service and the PD client.
import type { StoreGcProgress } from '../pd/gc/safe_point.js';
import type {
  StoreGCProgress,
  StoreGCProgress__Output,
} from '../proto-gen/nyx/pd/StoreGCProgress.js';
import { int64ToNumber, toInt64, toUint64, uint64ToNumber, wireIntToBigInt } from './uint64.js';

export function progressFromProto(p: StoreGCProgress__Output): StoreGcProgress {
  return {
    storeId: uint64ToNumber(p.storeId, 'store id'),
    doneSafePoint: wireIntToBigInt(p.doneSafePoint),
    safePoint: wireIntToBigInt(p.safePoint),
    regionsDone: p.regionsDone,
    regionsLed: p.regionsLed,
    versionsDeleted: uint64ToNumber(p.versionsDeleted, 'versions deleted'),
    locksResolved: uint64ToNumber(p.locksResolved, 'locks resolved'),
    reportedMs: int64ToNumber(p.reportedMs, 'reported ms'),
  };
}

export function progressToProto(p: StoreGcProgress): StoreGCProgress {
  return {
    storeId: toUint64(p.storeId),
    doneSafePoint: toUint64(p.doneSafePoint),
    safePoint: toUint64(p.safePoint),
    regionsDone: p.regionsDone,
    regionsLed: p.regionsLed,
    versionsDeleted: toUint64(p.versionsDeleted),
    locksResolved: toUint64(p.locksResolved),
    reportedMs: toInt64(p.reportedMs),
  };
}
