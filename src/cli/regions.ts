// How Regions print: one row per Region for tables, plain objects for --json. Boundary keys
// follow the key encoding model of encoding.ts; an empty boundary is unbounded.
import type { RegionInfo } from '../pd/cluster.js';
import { PeerRole } from '../region/meta.js';
import { displayBytes, jsonBytes, jsonEncodingFor, type Encoding } from './encoding.js';
import type { Cell } from './output.js';

export const REGION_HEADER = [
  'id',
  'start key',
  'end key',
  'epoch (conf_ver/version)',
  'peers (id@store)',
  'leader',
];

const ROLE_NOTE: Record<PeerRole, string> = {
  [PeerRole.Voter]: '',
  [PeerRole.Learner]: ' (learner)',
  [PeerRole.IncomingVoter]: ' (incoming voter)',
  [PeerRole.DemotingVoter]: ' (demoting voter)',
};

export function regionRow({ region, leader, hot }: RegionInfo, enc: Encoding): Cell[] {
  return [
    region.id,
    region.startKey.length === 0 ? '-inf' : displayBytes(region.startKey, enc),
    region.endKey.length === 0 ? '+inf' : displayBytes(region.endKey, enc),
    `${region.epoch.confVer}/${region.epoch.version}`,
    region.peers.map((p) => `${p.id}@${p.storeId}${ROLE_NOTE[p.role]}`).join(', '),
    (leader ? `${leader.id}@${leader.storeId}` : '(unknown)') +
      // PD's hot marker: the Region is hot for reads and/or writes (hot-region scheduler).
      (hot && hot.length > 0 ? ` [hot ${hot.join('+')}]` : ''),
  ];
}

export function regionJson({ region, leader, hot }: RegionInfo, enc: Encoding): object {
  const encoding = jsonEncodingFor([region.startKey, region.endKey], enc);
  return {
    id: region.id,
    startKey: jsonBytes(region.startKey, encoding),
    endKey: jsonBytes(region.endKey, encoding),
    encoding,
    epoch: region.epoch,
    peers: region.peers,
    leader: leader ?? null,
    ...(hot && hot.length > 0 ? { hot } : {}),
  };
}
