// The local state a Region engine keeps next to its data: the Region meta (with the
// tombstone flag) and the apply state. Both are JSON text in the local_state table, so
// `sqlite3 regions/12.sqlite "select * from local_state"` shows them; keys are hex.
import { PeerRole, Region } from '../region/meta.js';
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
 * One merge a Region took in as its target (TiKV's merged_records): the source and the
 * index of its PrepareMerge. Written in the CommitMerge's own transaction and kept for
 * the Region's life in its file, so a snapshot carries it too. It lets a store tell, from
 * any replica of the target however it got its state, whether a fenced source replica
 * was merged (its rows are the target's now) or never can be (merge_runner.ts). One small
 * record per merge, and merges are bounded by the splits that made their sources.
 */
export interface MergedRecord {
  source: number;
  commit: number;
}

export function encodeMergedRecords(records: readonly MergedRecord[]): string {
  return JSON.stringify(records.map((r) => ({ source: r.source, commit: r.commit })));
}

export function decodeMergedRecords(text: string): MergedRecord[] {
  const o = parse(text, 'merged records');
  if (
    !Array.isArray(o) ||
    !o.every(
      (r: { source?: unknown; commit?: unknown }) =>
        typeof r?.source === 'number' && typeof r?.commit === 'number',
    )
  )
    throw new StorageCorruptionError(`bad merged records: ${text}`);
  return (o as MergedRecord[]).map((r) => ({ source: r.source, commit: r.commit }));
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
