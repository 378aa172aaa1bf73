// The regions view: every Region (sorted, filtered) with range, epoch, leader, peers,
// load and a hot marker.
import { fmtBytes, fmtCount, fmtRange, fmtRate } from './format.js';
import type { RegionRow } from './snapshot.js';
import { Table, type Column } from './table.js';

export function regionColumns(width: number): Column[] {
  const fixed: Column[] = [
    { title: 'ID', width: 6, align: 'right' },
    { title: 'EPOCH', width: 7 },
    { title: 'LEADER', width: 7, align: 'right' },
    { title: 'PEERS', width: 12 },
    { title: 'READ/S', width: 7, align: 'right' },
    // Raft entries the leader applied per second: writes, several to an entry when batched.
    { title: 'APPLY/S', width: 7, align: 'right' },
    { title: 'SIZE', width: 8, align: 'right' },
    { title: 'KEYS', width: 7, align: 'right' },
    { title: 'HOT', width: 3 },
  ];
  const used = fixed.reduce((a, c) => a + c.width + 1, 0);
  return [...fixed, { title: 'RANGE', width: Math.max(10, width - used) }];
}

export function RegionsView(props: {
  regions: RegionRow[];
  selected: number;
  width: number;
  height: number;
}) {
  const columns = regionColumns(props.width);
  const rows = props.regions.map((r) => ({
    key: String(r.id),
    color: r.leader ? (r.hot ? 'yellow' : undefined) : 'red',
    cells: [
      String(r.id),
      `${r.epoch.confVer}/${r.epoch.version}`,
      r.leader ? `s${r.leader.storeId}` : 'none',
      r.peers.map((p) => `s${p.storeId}${p.role === 'Learner' ? 'L' : ''}`).join(','),
      fmtRate(r.readsPerSec),
      fmtRate(r.writesPerSec),
      fmtBytes(r.sizeBytes),
      fmtCount(r.keys),
      r.hot ? 'HOT' : '',
      fmtRange(r.startKey, r.endKey),
    ],
  }));
  return (
    <Table
      columns={columns}
      rows={rows}
      selected={props.selected}
      width={props.width}
      height={props.height}
    />
  );
}
