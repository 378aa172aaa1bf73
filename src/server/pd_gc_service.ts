// The GC safe point RPCs of nyx.pd.PD (GetGCSafePoint, UpdateServiceGCSafePoint,
// GetGCStatus): conversions between the wire and src/pd/gc/safe_point.ts, kept out of
// pd_service.ts, which only routes to them.
import { PdError, PdErrorCode } from '../pd/errors.js';
import { progressFromProto, progressToProto } from '../proto/convert_gc.js';
import type { CallerIdentity } from '../pd/identity.js';
import type { PlacementDriver } from '../pd/placement_driver.js';
import { int64ToNumber, toInt64, toUint64, wireIntToBigInt } from '../proto/uint64.js';
import type { GetGCSafePointRequest__Output } from '../proto-gen/nyx/pd/GetGCSafePointRequest.js';
import type { GetGCSafePointResponse } from '../proto-gen/nyx/pd/GetGCSafePointResponse.js';
import type { GetGCStatusResponse } from '../proto-gen/nyx/pd/GetGCStatusResponse.js';
import type { UpdateServiceGCSafePointRequest__Output } from '../proto-gen/nyx/pd/UpdateServiceGCSafePointRequest.js';
import type { UpdateServiceGCSafePointResponse } from '../proto-gen/nyx/pd/UpdateServiceGCSafePointResponse.js';

/** The safe point, advanced now; a store's report of its progress is kept for status. */
export function getGcSafePoint(
  pd: PlacementDriver,
  req: GetGCSafePointRequest__Output,
  identity: CallerIdentity | undefined,
): Omit<GetGCSafePointResponse, 'header'> {
  if (req.progress) {
    const p = progressFromProto(req.progress);
    // A store speaks for itself only (its certificate names it, with mutual TLS), and
    // only a registered store is remembered: the map stays bounded by the stores.
    if (identity && identity.storeId !== p.storeId) {
      throw new PdError(
        PdErrorCode.PermissionDenied,
        `store ${identity.storeId} cannot report GC progress for store ${p.storeId}`,
      );
    }
    if (!pd.cluster.getStore(p.storeId)) {
      throw new PdError(PdErrorCode.StoreNotFound, `store ${p.storeId} is not registered`);
    }
    pd.gc.reportProgress(p);
  }
  return { safePoint: toUint64(pd.gc.advance()) };
}

export function updateServiceGcSafePoint(
  pd: PlacementDriver,
  req: UpdateServiceGCSafePointRequest__Output,
): Omit<UpdateServiceGCSafePointResponse, 'header'> {
  const ttl = int64ToNumber(req.ttl, 'ttl');
  const r = pd.gc.updateService(req.serviceId, ttl, wireIntToBigInt(req.safePoint));
  return {
    accepted: r.accepted,
    gcSafePoint: toUint64(r.gcSafePoint),
    minServiceSafePoint: toUint64(r.minServiceSafePoint),
  };
}

export function getGcStatus(pd: PlacementDriver): Omit<GetGCStatusResponse, 'header'> {
  const safePoint = pd.gc.advance();
  return {
    safePoint: toUint64(safePoint),
    gcLifeTimeMs: toInt64(pd.config.values['gc-life-time']),
    nowMs: toInt64(pd.now()),
    services: pd.gc.liveServices().map((s) => ({
      serviceId: s.serviceId,
      safePoint: toUint64(s.safePoint),
      expiresAtMs: toInt64(s.expiresAtMs),
    })),
    stores: pd.gc.storeProgress().map(progressToProto),
  };
}
