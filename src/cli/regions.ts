// How Regions print: one row per Region for tables, plain objects for --json. Boundary keys
// follow the key encoding model of encoding.ts; an empty boundary is unbounded.
import type { RegionLookup } from '../proto/convert_pd.js';
import { PeerRole, type Peer } from '../region/meta.js';
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

export function regionRow(info: RegionLookup, enc: Encoding): Cell[] {
  const { region, leader, hot } = info;
  return [
    region.id,
    region.startKey.length === 0 ? '-inf' : displayBytes(region.startKey, enc),
    region.endKey.length === 0 ? '+inf' : displayBytes(region.endKey, enc),
    `${region.epoch.confVer}/${region.epoch.version}`,
    region.peers
      .map((p) => `${p.id}@${p.storeId}${ROLE_NOTE[p.role]}${healthNote(info, p)}`)
      .join(', '),
    (leader ? `${leader.id}@${leader.storeId}` : '(unknown)') +
      // PD's hot marker: the Region is hot for reads and/or writes (hot-region scheduler).
      (hot && hot.length > 0 ? ` [hot ${hot.join('+')}]` : ''),
  ];
}

/** What the leader last reported of a peer: down (silent) or pending (needs a snapshot). */
function healthNote(info: RegionLookup, p: Peer): string {
  const down = info.downPeers?.find((d) => d.peer.id === p.id);
  if (down) return ` (down ${down.downSeconds}s)`;
  if (info.pendingPeers?.some((q) => q.id === p.id)) return ' (pending)';
  return '';
}

/**
 * A Region for --json. `withHealth` (a single Region looked up by id or key, whose answer
 * carries them) adds the peers its leader last reported down and pending, [] when none.
 */
export function regionJson(info: RegionLookup, enc: Encoding, withHealth = false): object {
  const { region, leader, hot } = info;
  const encoding = jsonEncodingFor([region.startKey, region.endKey], enc);
  return {
    id: region.id,
    startKey: jsonBytes(region.startKey, encoding),
    endKey: jsonBytes(region.endKey, encoding),
    encoding,
    epoch: region.epoch,
    peers: region.peers,
    leader: leader ?? null,
    ...(withHealth
      ? { downPeers: info.downPeers ?? [], pendingPeers: info.pendingPeers ?? [] }
      : {}),
    ...(hot && hot.length > 0 ? { hot } : {}),
  };
}
