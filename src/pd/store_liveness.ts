// Store liveness as PD judges it, after PD's StoreInfo (IsDisconnected / IsUnhealthy /
// DownTime): a store in service (record state Up) is
//   Up            while it heartbeats,
//   Disconnected  after store-disconnect-time without a heartbeat (no new work for it),
//   Down          after max-store-down-time without one (its replicas are to be re-made
//                 elsewhere; the replica checker acts on this state).
// Offline and Tombstone are the record's own states and win over silence.
//
// Derived on read from the last heartbeat time, never stored: the facts are the heartbeat
// times and the settings, and a setting changed by `nyx pd config set` applies at once.
//
// A restarted PD has heard nobody yet, and a store's persisted heartbeat time may be old
// only because PD itself was down. So silence is counted from PD's start at the earliest
// (PD likewise waits out a full period after it becomes leader): a PD restart never
// declares a live store Down, at the price of a dead one showing Up for
// store-disconnect-time after the restart.
import type { PdConfigValues } from './config/schema.js';
import { StoreState, type StoreMeta } from './types.js';

export type StoreLiveness = 'Up' | 'Disconnected' | 'Down' | 'Offline' | 'Tombstone';

export const STORE_LIVENESS_STATES: readonly StoreLiveness[] = [
  'Up',
  'Disconnected',
  'Down',
  'Offline',
  'Tombstone',
];

export interface LivenessTimes {
  storeDisconnectMs: number;
  maxStoreDownMs: number;
}

export function livenessTimes(v: PdConfigValues): LivenessTimes {
  return {
    storeDisconnectMs: v['store-disconnect-time'],
    maxStoreDownMs: v['max-store-down-time'],
  };
}

/** The store's liveness at nowMs, for a PD that started at pdStartMs. */
export function storeLiveness(
  s: Pick<StoreMeta, 'state' | 'lastHeartbeatMs'>,
  nowMs: number,
  pdStartMs: number,
  t: LivenessTimes,
): StoreLiveness {
  if (s.state === StoreState.Offline || s.state === StoreState.Tombstone) return s.state;
  if (s.state !== StoreState.Up) throw new Error(`unknown store record state ${String(s.state)}`);
  const silentMs = nowMs - Math.max(s.lastHeartbeatMs, pdStartMs);
  // Down first: with max-store-down-time below store-disconnect-time a store goes from
  // Up straight to Down.
  if (silentMs >= t.maxStoreDownMs) return 'Down';
  if (silentMs >= t.storeDisconnectMs) return 'Disconnected';
  return 'Up';
}

export interface LivenessChange {
  storeId: number;
  from: StoreLiveness;
  to: StoreLiveness;
  /** ms since the store's last heartbeat (null: never heard of). */
  heartbeatAgeMs: number | null;
}

/**
 * Remembers each store's last judged liveness so that PD can log and count the changes
 * (polled about once a second by the server, and on every read).
 */
export class StoreLivenessWatch {
  private readonly last = new Map<number, StoreLiveness>();

  constructor(
    private readonly pdStartMs: number,
    private readonly times: () => LivenessTimes,
  ) {}

  stateOf(s: StoreMeta, nowMs: number): StoreLiveness {
    return storeLiveness(s, nowMs, this.pdStartMs, this.times());
  }

  /** Judges every store now and returns what changed since the last call. */
  check(stores: StoreMeta[], nowMs: number): LivenessChange[] {
    const changes: LivenessChange[] = [];
    for (const s of stores) {
      const to = this.stateOf(s, nowMs);
      // A store PD has not judged before starts from what PD would have said on
      // registration: Up (a registration is a sign of life).
      const from = this.last.get(s.id) ?? 'Up';
      this.last.set(s.id, to);
      if (from !== to) {
        changes.push({
          storeId: s.id,
          from,
          to,
          heartbeatAgeMs: s.lastHeartbeatMs > 0 ? nowMs - s.lastHeartbeatMs : null,
        });
      }
    }
    return changes;
  }
}
