// `nyx gc status` as data and as text: PD's GC safe point, how far it trails PD's clock,
// the service safe points under it, and each store's progress.
import type { GcStatus } from '../client/pd_client.js';
import { decomposeTs } from '../pd/timestamp.js';
import { fmtDuration } from '../ui/format.js';
import { renderFields, renderTable } from './output.js';

function timeOf(ts: bigint): string {
  return ts === 0n ? '-' : new Date(decomposeTs(ts).physical).toISOString();
}

/** Age in ms of a timestamp against PD's clock (null for 0: none yet). */
function ageMs(ts: bigint, nowMs: number): number | null {
  return ts === 0n ? null : nowMs - decomposeTs(ts).physical;
}

export function gcStatusJson(s: GcStatus): object {
  return {
    safePoint: s.safePoint,
    safePointTime: timeOf(s.safePoint),
    safePointAgeMs: ageMs(s.safePoint, s.nowMs),
    gcLifeTimeMs: s.gcLifeTimeMs,
    services: s.services.map((x) => ({
      serviceId: x.serviceId,
      safePoint: x.safePoint,
      safePointTime: timeOf(x.safePoint),
      expiresInMs: x.expiresAtMs - s.nowMs,
    })),
    stores: s.stores.map((p) => ({
      store: p.storeId,
      safePoint: p.safePoint,
      doneSafePoint: p.doneSafePoint,
      regionsDone: p.regionsDone,
      regionsLed: p.regionsLed,
      versionsDeleted: p.versionsDeleted,
      locksResolved: p.locksResolved,
      reportedAgoMs: s.nowMs - p.reportedMs,
    })),
  };
}

const age = (ms: number | null) => (ms === null ? '-' : fmtDuration(ms / 1000) + ' ago');

export function renderGcStatus(s: GcStatus): string {
  const head = renderFields([
    ['safe point', s.safePoint === 0n ? '0 (none yet)' : s.safePoint],
    ['safe point time', `${timeOf(s.safePoint)} (${age(ageMs(s.safePoint, s.nowMs))})`],
    ['gc-life-time', fmtDuration(s.gcLifeTimeMs / 1000)],
  ]);
  const services =
    s.services.length === 0
      ? 'No service safe points (no long transactions hold GC back).'
      : renderTable(
          ['service', 'safe point', 'time', 'expires in'],
          s.services.map((x) => [
            x.serviceId,
            x.safePoint,
            timeOf(x.safePoint),
            fmtDuration(Math.max(0, x.expiresAtMs - s.nowMs) / 1000),
          ]),
        );
  const stores =
    s.stores.length === 0
      ? 'No store has reported GC progress yet.'
      : renderTable(
          ['store', 'regions done', 'done at', 'versions deleted', 'locks resolved', 'reported'],
          s.stores.map((p) => [
            p.storeId,
            `${p.regionsDone}/${p.regionsLed}`,
            p.doneSafePoint === s.safePoint && s.safePoint > 0n
              ? 'current'
              : p.doneSafePoint === 0n
                ? '-'
                : timeOf(p.doneSafePoint),
            p.versionsDeleted,
            p.locksResolved,
            age(s.nowMs - p.reportedMs),
          ]),
        );
  return [head, '', services, '', stores].join('\n');
}
