// The merge checker, after PD's MergeChecker (tikv/pd server/schedule/checker/
// merge_checker.go): a small Region is merged into an adjacent small one, so that a key
// space that was split and then emptied (deletes, GC) does not keep paying per-Region
// costs. It looks at a Region the patrol visits and, in this order:
//   - merge is off (max-merge-region-size or merge-schedule-limit 0): nothing;
//   - the replica checker has work on it (a missing or extra replica): that first;
//   - it is not small (approximate size or keys over max-merge-region-size/-keys, as its
//     leader's split checker measured them), or its size is not known yet: nothing;
//   - it split (or merged) less than split-merge-interval ago: not yet, so a Region that
//     just split is not merged straight back;
//   - it is hot (hot_stats.ts): a merge would only make the hot spot bigger (PD skips
//     hot Regions too);
//   - a neighbour to merge into: adjacent, not hot, small as well, settled as well, with a leader,
//     no operator running on it, and peers on exactly the same stores — a merge moves rows
//     between files on each store, so a neighbour on other stores is passed over (PD would
//     first move replicas; here `nyx region explain` says which stores differ).
// Of the acceptable neighbours the smaller is chosen (PD's preference); the plan is one
// MergeRegion step on this Region (the source).
import type { RegionInfo } from '../cluster.js';
import { formatDuration } from '../config/duration.js';
import { cloneRegion, type Region, type RegionId } from '../../region/meta.js';
import { sameStores, storesOf } from '../merge.js';
import { OperatorKind, OperatorPriority } from './operator.js';
import { checkReplicas } from './replica_checker.js';
import type { ClusterSnapshot } from './snapshot.js';
import { verdict, type Verdict } from './verdict.js';

export const MERGE_CHECKER = 'merge-checker';

/**
 * What the merge checker remembers between patrols: when PD first saw each Region at its
 * current version (a split or merge resets it), and the merges it started, by target — a
 * Region about to take in a neighbour must not itself be merged away meanwhile (its
 * CommitMerge would never apply, PD's merge checker keeps the same rule).
 */
export class VersionClock {
  private readonly seen = new Map<RegionId, { version: number; atMs: number }>();
  private readonly into = new Map<RegionId, { source: RegionId; operatorId: number }>();

  noteMerge(source: RegionId, target: RegionId, operatorId: number): void {
    this.into.set(target, { source, operatorId });
  }

  /** The source of a merge into `target` still running, if any. */
  mergingInto(target: RegionId, snap: ClusterSnapshot): RegionId | undefined {
    const m = this.into.get(target);
    if (!m) return undefined;
    if (snap.runningOn(m.source)?.id === m.operatorId) return m.source;
    this.into.delete(target);
    return undefined;
  }

  /** ms since `r` reached its version, as far as this PD knows (0 when first seen now). */
  ageMs(r: Region, nowMs: number): number {
    const s = this.seen.get(r.id);
    if (!s || s.version !== r.epoch.version) {
      this.seen.set(r.id, { version: r.epoch.version, atMs: nowMs });
      return 0;
    }
    return nowMs - s.atMs;
  }

  /** Forget Regions no longer in the map (bounded by the map's size). */
  retain(alive: (id: RegionId) => boolean): void {
    for (const id of this.seen.keys()) if (!alive(id)) this.seen.delete(id);
  }
}

interface Size {
  bytes: number;
  keys: number;
}

export function checkMerge(info: RegionInfo, snap: ClusterSnapshot, clock: VersionClock): Verdict {
  const cfg = snap.config;
  const maxSize = cfg['max-merge-region-size'];
  const maxKeys = cfg['max-merge-region-keys'];
  const interval = cfg['split-merge-interval'];
  const region = info.region;
  if (maxSize === 0 || cfg['merge-schedule-limit'] === 0)
    return verdict(
      MERGE_CHECKER,
      'not-eligible',
      'merge is off (max-merge-region-size or merge-schedule-limit is 0)',
    );
  if (!info.leader)
    return verdict(MERGE_CHECKER, 'not-eligible', 'PD has heard from no leader of this Region yet');
  if (checkReplicas(info, snap).outcome !== 'nothing-to-do')
    return verdict(
      MERGE_CHECKER,
      'not-eligible',
      'its replicas are not in order — the replica checker goes first',
    );
  const size = sizeOf(region.id, snap);
  if (!size)
    return verdict(
      MERGE_CHECKER,
      'not-eligible',
      'its size is not known yet (the leader reports it after its split checker measured it)',
    );
  const limits = `max-merge-region-size ${maxSize} B, max-merge-region-keys ${maxKeys}`;
  const facts = [`size ${size.bytes} B, ${size.keys} keys (${limits})`];
  if (!small(size, maxSize, maxKeys))
    return verdict(MERGE_CHECKER, 'nothing-to-do', 'too large to merge — nothing to do', facts);
  const incoming = clock.mergingInto(region.id, snap);
  if (incoming !== undefined)
    return verdict(
      MERGE_CHECKER,
      'not-eligible',
      `region ${incoming} is merging into it — not before that is done`,
      facts,
    );
  const age = clock.ageMs(region, snap.now);
  if (age < interval)
    return verdict(
      MERGE_CHECKER,
      'not-eligible',
      `at version ${region.epoch.version} for ${formatDuration(age)}, under split-merge-interval ${formatDuration(interval)} — not yet`,
      facts,
    );
  const hot = snap.hot.hotKinds(region.id, snap.now);
  if (hot.length > 0)
    return verdict(
      MERGE_CHECKER,
      'not-eligible',
      `it is hot for ${hot.map((k) => `${k}s`).join(' and ')} — not merged while hot`,
      facts,
    );

  const candidates: { info: RegionInfo; size: Size }[] = [];
  for (const [side, n] of neighbours(info, snap)) {
    if (!n) {
      facts.push(`${side}: none (edge of the key space, or PD's map has a gap)`);
      continue;
    }
    const why = refusal(n, snap, clock, maxSize, maxKeys, interval, region);
    if (why) {
      facts.push(`${side}: region ${n.region.id} ${why}`);
      continue;
    }
    const s = sizeOf(n.region.id, snap)!;
    facts.push(`${side}: region ${n.region.id}, ${s.bytes} B, ${s.keys} keys — can take it`);
    candidates.push({ info: n, size: s });
  }
  if (candidates.length === 0)
    return verdict(MERGE_CHECKER, 'held-back', 'small, but no neighbour can take it', facts);
  candidates.sort((a, b) => a.size.bytes - b.size.bytes || a.size.keys - b.size.keys);
  const target = candidates[0]!.info.region;
  return verdict(
    MERGE_CHECKER,
    'act',
    `small (${size.bytes} B, ${size.keys} keys) — merge into region ${target.id}`,
    facts,
    {
      regionId: region.id,
      epoch: { ...region.epoch },
      desc: `${MERGE_CHECKER}: merge into region ${target.id}`,
      kind: OperatorKind.Merge,
      priority: OperatorPriority.Normal,
      steps: [{ kind: 'MergeRegion', target: cloneRegion(target) }],
    },
  );
}

function sizeOf(id: RegionId, snap: ClusterSnapshot): Size | undefined {
  const st = snap.regionStats(id);
  if (st?.approximateSize === undefined) return undefined;
  return { bytes: st.approximateSize, keys: st.approximateKeys ?? 0 };
}

function small(s: Size, maxSize: number, maxKeys: number): boolean {
  return s.bytes <= maxSize && s.keys <= maxKeys;
}

function neighbours(info: RegionInfo, snap: ClusterSnapshot): [string, RegionInfo | undefined][] {
  const r = info.region;
  const cluster = snap.cluster;
  const next = r.endKey.length === 0 ? undefined : cluster.getRegion(r.endKey);
  let prev: RegionInfo | undefined;
  if (r.startKey.length > 0) {
    const before = cluster.scanRegions(Buffer.alloc(0), r.startKey);
    const last = before[before.length - 1];
    if (last && last.region.endKey.equals(r.startKey)) prev = last;
  }
  return [
    ['previous', prev],
    ['next', next && next.region.startKey.equals(r.endKey) ? next : undefined],
  ];
}

/** Why neighbour `n` cannot take `source` now, or undefined. */
function refusal(
  n: RegionInfo,
  snap: ClusterSnapshot,
  clock: VersionClock,
  maxSize: number,
  maxKeys: number,
  interval: number,
  source: Region,
): string | undefined {
  if (!sameStores(n.region, source))
    return `has peers on stores [${storesOf(n.region).join(', ')}], this one on [${storesOf(source).join(', ')}]: a merge needs the same stores`;
  if (!n.leader) return 'has no known leader';
  const op = snap.runningOn(n.region.id);
  if (op) return `has operator ${op.id} (${op.desc}) running`;
  const other = clock.mergingInto(n.region.id, snap);
  if (other !== undefined) return `is taking in region ${other} already`;
  const s = sizeOf(n.region.id, snap);
  if (!s) return 'has no known size yet';
  if (!small(s, maxSize, maxKeys)) return `is too large (${s.bytes} B, ${s.keys} keys)`;
  const age = clock.ageMs(n.region, snap.now);
  if (age < interval) return `changed ${formatDuration(age)} ago (split-merge-interval)`;
  const hot = snap.hot.hotKinds(n.region.id, snap.now);
  if (hot.length > 0) return `is hot for ${hot.map((k) => `${k}s`).join(' and ')}`;
  return undefined;
}
