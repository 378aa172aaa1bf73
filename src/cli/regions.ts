// How Regions print: one row per Region for tables, plain objects for --json.
import type { RegionInfo } from '../pd/cluster.js';
import { PeerRole, formatKey } from '../region/meta.js';
import type { Cell } from './output.js';

export const REGION_HEADER = [
  'id',
  'start key',
  'end key',
  'epoch (conf_ver/version)',
  'peers (id@store)',
  'leader',
];

export function regionRow({ region, leader }: RegionInfo): Cell[] {
  return [
    region.id,
    region.startKey.length === 0 ? '-inf' : formatKey(region.startKey),
    region.endKey.length === 0 ? '+inf' : formatKey(region.endKey),
    `${region.epoch.confVer}/${region.epoch.version}`,
    region.peers
      .map((p) => `${p.id}@${p.storeId}${p.role === PeerRole.Learner ? ' (learner)' : ''}`)
      .join(', '),
    leader ? `${leader.id}@${leader.storeId}` : '(unknown)',
  ];
}

export function regionJson({ region, leader }: RegionInfo): object {
  return {
    id: region.id,
    startKey: formatKey(region.startKey),
    endKey: formatKey(region.endKey),
    epoch: region.epoch,
    peers: region.peers,
    leader: leader ?? null,
  };
}
