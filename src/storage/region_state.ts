// The local state a Region engine keeps next to its data: the Region meta (with the
// tombstone flag) and the apply state. Both are JSON text in the local_state table, so
// `sqlite3 regions/12.sqlite "select * from local_state"` shows them; keys are hex.
import { PeerRole, Region, rangesOverlap } from '../region/meta.js';
import { StorageCorruptionError } from './errors.js';

/** How far the Region's state machine has applied its log. */
export interface ApplyState {
  appliedIndex: number;
  appliedTerm: number;
}

export interface RegionLocalState {
  region: Region;
  /** The peer on this store was removed; its data is gone or about to be. */
  tombstone: boolean;
  /** Set from a merge source's PrepareMerge until the merge commits or rolls back. */
  merging?: MergeState;
}

/** A merge source's fence (TiKV's MergeState), kept with its meta in the same row. */
export interface MergeState {
  /** Every source replica had the log up to here when PrepareMerge was proposed. */
  minIndex: number;
  /** The index of the PrepareMerge entry. */
  commit: number;
  /** The target as recorded at prepare: CommitMerge applies only at this epoch. */
  target: Region;
}

/**
 * One merge a Region's range took in (TiKV's merged_records): the source, the index of
 * its PrepareMerge, the target that committed it, and the source's range then. The
 * target writes it in the CommitMerge's own transaction; a snapshot carries it. It lets
 * a store tell, from any replica however it got its state:
 *
 *   - whether a fenced source replica was merged (its rows are the target's now) or
 *     never can be (merge_verdict.ts): a target keeps every record it wrote itself;
 *   - whether a hosted replica a snapshot covers was merged away, and which Region here,
 *     if any, still has to take it in from its log (peer_creation.ts snapshotOverlap).
 *     For that a record travels with the source's range: a split copies into each new
 *     Region the records whose range it overlaps, a merge passes the source's on.
 *
 * One small record per merge, and merges are bounded by the splits that made their
 * sources. Records written before targets and ranges were kept have neither: the target
 * is the Region whose file holds them, and they do not travel.
 */
export interface MergedRecord {
  source: number;
  commit: number;
  target: number;
  /** The source's range at the prepare; absent in older records. */
  range?: { startKey: Buffer; endKey: Buffer };
}

interface MergedRecordJson {
  source: number;
  commit: number;
  target?: number;
  startKey?: string;
  endKey?: string;
}

export function encodeMergedRecords(records: readonly MergedRecord[]): string {
  return JSON.stringify(
    records.map((r): MergedRecordJson => {
      const o: MergedRecordJson = { source: r.source, commit: r.commit, target: r.target };
      if (r.range) {
        o.startKey = r.range.startKey.toString('hex');
        o.endKey = r.range.endKey.toString('hex');
      }
      return o;
    }),
  );
}

/** The records of the file of Region `holder` (an older record's target is the holder). */
export function decodeMergedRecords(text: string, holder: number): MergedRecord[] {
  const o = parse(text, 'merged records');
  const valid = (r: MergedRecordJson) =>
    typeof r?.source === 'number' &&
    typeof r?.commit === 'number' &&
    (r.target === undefined || typeof r.target === 'number') &&
    (r.startKey === undefined) === (r.endKey === undefined) &&
    (r.startKey === undefined || (typeof r.startKey === 'string' && typeof r.endKey === 'string'));
  if (!Array.isArray(o) || !o.every(valid))
    throw new StorageCorruptionError(`bad merged records: ${text}`);
  return (o as MergedRecordJson[]).map((r) => {
    const rec: MergedRecord = { source: r.source, commit: r.commit, target: r.target ?? holder };
    if (r.startKey !== undefined)
      rec.range = {
        startKey: Buffer.from(r.startKey, 'hex'),
        endKey: Buffer.from(r.endKey!, 'hex'),
      };
    return rec;
  });
}

/** Whether two records name the same merge (a source is prepared at most once per index). */
export function sameMerge(a: MergedRecord, b: { source: number; commit: number }): boolean {
  return a.source === b.source && a.commit === b.commit;
}

/** `base` with the records of `more` it lacks appended. */
export function unionMergedRecords(
  base: readonly MergedRecord[],
  more: readonly MergedRecord[],
): MergedRecord[] {
  const out = [...base];
  for (const r of more) if (!out.some((o) => sameMerge(o, r))) out.push(r);
  return out;
}

/**
 * The records that travel into a Region of range [startKey, endKey) (empty end: +inf):
 * those whose source range overlaps it.
 */
export function mergedRecordsFor(
  records: readonly MergedRecord[],
  range: Pick<Region, 'startKey' | 'endKey'>,
): MergedRecord[] {
  return records.filter((r) => r.range !== undefined && rangesOverlap(r.range, range));
}

export function emptyApplyState(): ApplyState {
  return { appliedIndex: 0, appliedTerm: 0 };
}

export function encodeApplyState(s: ApplyState): string {
  return JSON.stringify({ appliedIndex: s.appliedIndex, appliedTerm: s.appliedTerm });
}

export function decodeApplyState(text: string): ApplyState {
  const o = parse(text, 'apply state') as Partial<ApplyState>;
  if (typeof o.appliedIndex !== 'number' || typeof o.appliedTerm !== 'number')
    throw new StorageCorruptionError(`bad apply state: ${text}`);
  return { appliedIndex: o.appliedIndex, appliedTerm: o.appliedTerm };
}

interface RegionJson {
  id: number;
  startKey: string;
  endKey: string;
  epoch: { confVer: number; version: number };
  peers: { id: number; storeId: number; role: string }[];
}

function regionJson(r: Region): RegionJson {
  return {
    id: r.id,
    startKey: Buffer.from(r.startKey).toString('hex'),
    endKey: Buffer.from(r.endKey).toString('hex'),
    epoch: { confVer: r.epoch.confVer, version: r.epoch.version },
    peers: r.peers.map((p) => ({ id: p.id, storeId: p.storeId, role: p.role })),
  };
}

interface MergeJson {
  minIndex: number;
  commit: number;
  target: RegionJson;
}

export function encodeRegionState(s: RegionLocalState): string {
  const region = regionJson(s.region);
  if (!s.merging) return JSON.stringify({ region, tombstone: s.tombstone });
  const m = s.merging;
  const merging: MergeJson = {
    minIndex: m.minIndex,
    commit: m.commit,
    target: regionJson(m.target),
  };
  return JSON.stringify({ region, tombstone: s.tombstone, merging });
}

export function decodeRegionState(text: string): RegionLocalState {
  const o = parse(text, 'region state') as {
    region?: RegionJson;
    tombstone?: boolean;
    merging?: MergeJson;
  };
  const r = o.region;
  if (!r || typeof r.id !== 'number') throw new StorageCorruptionError(`bad region state: ${text}`);
  const state: RegionLocalState = { region: regionFromJson(r), tombstone: o.tombstone === true };
  const m = o.merging;
  if (m) {
    if (typeof m.minIndex !== 'number' || typeof m.commit !== 'number' || !m.target)
      throw new StorageCorruptionError(`bad merge state: ${text}`);
    state.merging = { minIndex: m.minIndex, commit: m.commit, target: regionFromJson(m.target) };
  }
  return state;
}

function regionFromJson(r: RegionJson): Region {
  return {
    id: r.id,
    startKey: Buffer.from(r.startKey, 'hex'),
    endKey: Buffer.from(r.endKey, 'hex'),
    epoch: { confVer: r.epoch.confVer, version: r.epoch.version },
    peers: r.peers.map((p) => ({
      id: p.id,
      storeId: p.storeId,
      role: (Object.values(PeerRole) as string[]).includes(p.role)
        ? (p.role as PeerRole)
        : PeerRole.Voter,
    })),
  };
}

export function cloneRegionState(s: RegionLocalState): RegionLocalState {
  return decodeRegionState(encodeRegionState(s));
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StorageCorruptionError(`unreadable ${what}: ${text}`);
  }
}
