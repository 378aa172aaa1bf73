// One Region: its range and epoch, each peer with its roles and how far it lags the
// leader, and the recent events that concern it.
import { Box, Text } from 'ink';
import { fit, fmtBytes, fmtCount, fmtRange, fmtRate, fmtTime, NONE } from './format.js';
import type { ClusterEvent, RegionRow } from './snapshot.js';
import { Table, type Column } from './table.js';

const PEER_COLUMNS: Column[] = [
  { title: 'PEER', width: 6, align: 'right' },
  { title: 'STORE', width: 5, align: 'right' },
  { title: 'ROLE', width: 7 },
  { title: 'RAFT', width: 12 },
  { title: 'TERM', width: 5, align: 'right' },
  { title: 'APPLIED', width: 8, align: 'right' },
  { title: 'MATCH', width: 8, align: 'right' },
  { title: 'MATCH LAG', width: 9, align: 'right' },
  { title: 'APPLY LAG', width: 9, align: 'right' },
  { title: 'HEALTH', width: 12 },
];

const n = (v: number | null) => (v === null ? NONE : String(v));

export function RegionDetail(props: {
  region: RegionRow | undefined;
  regionId: number | null;
  events: ClusterEvent[];
  selected: number;
  width: number;
  height: number;
}) {
  const r = props.region;
  if (!r) {
    return (
      <Text color="red">{`region ${props.regionId ?? NONE} is gone (merged, or PD lost it)`}</Text>
    );
  }
  const rows = r.peers.map((p) => ({
    key: String(p.id),
    color: p.downSeconds !== null || p.raftRole === null ? 'red' : undefined,
    cells: [
      String(p.id),
      String(p.storeId),
      p.role,
      p.raftRole ?? 'unreachable',
      n(p.term),
      n(p.applied),
      n(p.match),
      n(p.matchLag),
      n(p.appliedLag),
      p.downSeconds !== null ? `down ${p.downSeconds}s` : p.pending ? 'pending' : 'ok',
    ],
  }));
  const events = props.events.filter((e) => e.regionId === r.id);
  const eventLines = Math.max(0, props.height - rows.length - 4);
  return (
    <Box flexDirection="column">
      <Text bold>
        {fit(
          `region ${r.id}  ${fmtRange(r.startKey, r.endKey)}  epoch conf_ver ${r.epoch.confVer} version ${r.epoch.version}`,
          props.width,
        )}
      </Text>
      <Text>
        {fit(
          `leader ${r.leader ? `peer ${r.leader.peerId} on store ${r.leader.storeId}` : 'none'}  applied ${fmtRate(r.writesPerSec)} entries/s  size ${fmtBytes(r.sizeBytes)}  keys ${fmtCount(r.keys)}${r.hot ? '  HOT' : ''}`,
          props.width,
        )}
      </Text>
      <Table
        columns={PEER_COLUMNS}
        rows={rows}
        selected={-1}
        width={props.width}
        height={rows.length}
      />
      <Text bold>{fit('recent events', props.width)}</Text>
      {events.length === 0 ? (
        <Text dimColor>{fit('none since nyx top started', props.width)}</Text>
      ) : (
        events
          .slice(0, eventLines)
          .map((e, i) => <Text key={i}>{fit(`${fmtTime(e.atMs)}  ${e.text}`, props.width)}</Text>)
      )}
    </Box>
  );
}
