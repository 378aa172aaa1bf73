// PD's GC safe point (PD's gc service: server/gc/safepoint.go and the service safe points
// of UpdateServiceGCSafePoint). The safe point S is the promise "no read at a timestamp
// below S will ever be served", so stores may delete every version only such reads see.
//
//   S = max(S_before, min(now − gc-life-time, every live service safe point))
//
// A service (a transactional client, a TxnHost, a backup tool) registers the oldest
// timestamp it still needs with a TTL; a registration that is not refreshed expires, so a
// crashed client holds GC back for at most its TTL. S only moves forward and is persisted
// before anyone is told it: a store that deleted versions below S must never meet a PD
// that answers a lower S after a restart. A service may not register below S (the
// versions it wants may be gone already): it is told so and must give up that snapshot.
import { composeTs } from '../timestamp.js';
import { PdError, PdErrorCode } from '../errors.js';

/** A registration's longest TTL: a crashed service holds GC back for at most a day. */
export const MAX_SERVICE_TTL_SEC = 24 * 3600;
/** Live registrations at most (PD's memory and pd.db stay bounded). */
export const MAX_SERVICES = 1024;
const MAX_SERVICE_ID_BYTES = 128;

export interface ServiceSafePoint {
  serviceId: string;
  safePoint: bigint;
  /** PD wall-clock ms at which the registration lapses. */
  expiresAtMs: number;
}

/** The narrow persistence port (pd.db; see meta_store.ts). */
export interface GcSafePointStore {
  loadGcSafePoint(): bigint;
  saveGcSafePoint(ts: bigint): void;
  loadServiceSafePoints(): ServiceSafePoint[];
  saveServiceSafePoint(s: ServiceSafePoint): void;
  deleteServiceSafePoint(serviceId: string): void;
}

/** What one store reports of its GC work (volatile: rebuilt from the next reports). */
export interface StoreGcProgress {
  storeId: number;
  /** The safe point the store last finished every Region it leads at (0: none yet). */
  doneSafePoint: bigint;
  /** The safe point it works towards now. */
  safePoint: bigint;
  regionsDone: number;
  regionsLed: number;
  versionsDeleted: number;
  locksResolved: number;
  /** PD wall-clock ms of the report. */
  reportedMs: number;
}

export interface ServiceUpdate {
  /** Whether the registration was stored (or removed, for ttl ≤ 0). */
  accepted: boolean;
  /** The GC safe point now: a refused registration was below it. */
  gcSafePoint: bigint;
  /** The lowest live service safe point after the update (0 when none). */
  minServiceSafePoint: bigint;
}

/** min(now − lifeTime, services): where S would go now if it only ever followed that. */
export function safePointCandidate(
  nowMs: number,
  lifeTimeMs: number,
  services: Iterable<bigint>,
): bigint {
  let c = composeTs(Math.max(0, nowMs - lifeTimeMs), 0);
  for (const s of services) if (s < c) c = s;
  return c;
}

export class GcSafePoints {
  private safePoint: bigint;
  private readonly services = new Map<string, ServiceSafePoint>();
  private readonly progress = new Map<number, StoreGcProgress>();

  constructor(
    private readonly store: GcSafePointStore,
    private readonly now: () => number,
    /** gc-life-time now (PD configuration, may change at any time). */
    private readonly lifeTimeMs: () => number,
  ) {
    this.safePoint = store.loadGcSafePoint();
    for (const s of store.loadServiceSafePoints()) this.services.set(s.serviceId, s);
  }

  /**
   * Registers (ttlSec > 0) or removes (ttlSec ≤ 0) a service's safe point. Refused, and
   * nothing stored, when it is below the GC safe point.
   */
  updateService(serviceId: string, ttlSec: number, safePoint: bigint): ServiceUpdate {
    if (serviceId.length === 0 || Buffer.byteLength(serviceId) > MAX_SERVICE_ID_BYTES) {
      throw new PdError(
        PdErrorCode.InvalidArgument,
        `a service id must be 1..${MAX_SERVICE_ID_BYTES} bytes`,
      );
    }
    if (!Number.isFinite(ttlSec) || ttlSec > MAX_SERVICE_TTL_SEC) {
      throw new PdError(
        PdErrorCode.InvalidArgument,
        `a service safe point TTL must be at most ${MAX_SERVICE_TTL_SEC} s, got ${ttlSec}`,
      );
    }
    const now = this.now();
    this.expire(now);
    let accepted = true;
    if (ttlSec <= 0) {
      if (this.services.delete(serviceId)) this.store.deleteServiceSafePoint(serviceId);
    } else if (safePoint < this.safePoint) {
      accepted = false;
    } else {
      if (!this.services.has(serviceId) && this.services.size >= MAX_SERVICES) {
        throw new PdError(
          PdErrorCode.LimitExceeded,
          `${MAX_SERVICES} services already hold a GC safe point`,
        );
      }
      const s = { serviceId, safePoint, expiresAtMs: now + Math.ceil(ttlSec * 1000) };
      // Persisted before the answer: the service relies on it from then on.
      this.store.saveServiceSafePoint(s);
      this.services.set(serviceId, s);
    }
    return {
      accepted,
      gcSafePoint: this.safePoint,
      minServiceSafePoint: this.minService(),
    };
  }

  /** Moves S forward as far as the rule allows (persisting it first); returns S. */
  advance(): bigint {
    const now = this.now();
    this.expire(now);
    const c = safePointCandidate(
      now,
      this.lifeTimeMs(),
      [...this.services.values()].map((s) => s.safePoint),
    );
    if (c > this.safePoint) {
      this.store.saveGcSafePoint(c);
      this.safePoint = c;
    }
    return this.safePoint;
  }

  /** S as last advanced (no side effects). */
  get current(): bigint {
    return this.safePoint;
  }

  /** The live registrations, oldest safe point first. */
  liveServices(): ServiceSafePoint[] {
    this.expire(this.now());
    return [...this.services.values()].sort((a, b) =>
      a.safePoint < b.safePoint ? -1 : a.safePoint > b.safePoint ? 1 : 0,
    );
  }

  reportProgress(p: Omit<StoreGcProgress, 'reportedMs'>): void {
    this.progress.set(p.storeId, { ...p, reportedMs: this.now() });
  }

  storeProgress(): StoreGcProgress[] {
    return [...this.progress.values()].sort((a, b) => a.storeId - b.storeId);
  }

  forgetStore(storeId: number): void {
    this.progress.delete(storeId);
  }

  private minService(): bigint {
    let m: bigint | undefined;
    for (const s of this.services.values()) if (m === undefined || s.safePoint < m) m = s.safePoint;
    return m ?? 0n;
  }

  private expire(now: number): void {
    for (const [id, s] of this.services) {
      if (s.expiresAtMs <= now) {
        this.services.delete(id);
        this.store.deleteServiceSafePoint(id);
      }
    }
  }
}
