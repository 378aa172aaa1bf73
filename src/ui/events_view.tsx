// The events view: what changed between refreshes, newest first.
import { fmtTime } from './format.js';
import type { ClusterEvent } from './snapshot.js';
import { Table, type Column } from './table.js';

export function EventsView(props: {
  events: ClusterEvent[];
  selected: number;
  width: number;
  height: number;
}) {
  const fixed: Column[] = [
    { title: 'TIME', width: 8 },
    { title: 'KIND', width: 11 },
  ];
  const columns = [...fixed, { title: 'EVENT', width: Math.max(10, props.width - 21) }];
  const rows = props.events.map((e, i) => ({
    key: `${e.atMs}-${i}`,
    color: e.kind === 'store' || e.kind === 'pd' ? 'yellow' : undefined,
    cells: [fmtTime(e.atMs), e.kind, e.text],
  }));
  if (rows.length === 0) {
    rows.push({
      key: 'none',
      color: undefined,
      cells: ['', '', 'no events since nyx top started'],
    });
  }
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
