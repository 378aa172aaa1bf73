// The stores view: one row per store with its state, load and sparklines of recent load.
import { fmtBytes, fmtCount, fmtMs, fmtRate, sparkline } from './format.js';
import type { StoreRow } from './snapshot.js';
import { Table, type Column } from './table.js';

const ADDRESS_WIDTH = 21;

const FIXED: Column[] = [
  { title: 'ID', width: 4, align: 'right' },
  { title: 'ADDRESS', width: ADDRESS_WIDTH },
  { title: 'STATE', width: 12 },
  { title: 'HB', width: 5, align: 'right' },
  { title: 'REGIONS', width: 7, align: 'right' },
  { title: 'LEADERS', width: 7, align: 'right' },
  { title: 'USED/CAP', width: 17, align: 'right' },
  { title: 'READ/S', width: 7, align: 'right' },
  { title: 'WRITE/S', width: 7, align: 'right' },
  { title: 'P99', width: 8, align: 'right' },
];

/** PD's state, unless PD still thinks Up a store whose own status port is silent. */
function stateText(s: StoreRow): string {
  return !s.reachable && s.state === 'Up' ? 'Unreachable' : s.state;
}

export function storeColumns(width: number): { columns: Column[]; spark: number } {
  const used = FIXED.reduce((a, c) => a + c.width + 1, 0);
  if (width < used) {
    // Narrow terminal: the address gives up columns first, down to 12.
    const address = Math.max(12, ADDRESS_WIDTH - (used - width));
    return {
      columns: FIXED.map((c) => (c.title === 'ADDRESS' ? { ...c, width: address } : c)),
      spark: 0,
    };
  }
  // What is left goes to two sparklines (writes, p99), at most 60 points (a minute) each.
  const spark = Math.min(60, Math.floor((width - used - 1) / 2));
  if (spark < 10) return { columns: FIXED, spark: 0 };
  return {
    columns: [...FIXED, { title: 'WRITE/S 1m', width: spark }, { title: 'P99 1m', width: spark }],
    spark,
  };
}

export function StoresView(props: {
  stores: StoreRow[];
  selected: number;
  width: number;
  height: number;
}) {
  const { columns, spark } = storeColumns(props.width);
  const rows = props.stores.map((s) => ({
    key: String(s.id),
    color: !s.reachable || s.state !== 'Up' ? 'red' : undefined,
    cells: [
      String(s.id),
      s.address,
      stateText(s),
      s.heartbeatAgeMs === null ? '-' : `${Math.round(s.heartbeatAgeMs / 1000)}s`,
      fmtCount(s.regions),
      fmtCount(s.leaders),
      `${fmtBytes(s.usedBytes)}/${fmtBytes(s.capacityBytes)}`,
      fmtRate(s.readsPerSec),
      fmtRate(s.writesPerSec),
      fmtMs(s.p99Ms),
      ...(spark ? [sparkline(s.history.writes, spark), sparkline(s.history.p99Ms, spark)] : []),
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
