// A fixed-width text table: the views are lists of rows, cut to the terminal's width and
// scrolled so that the selected row stays on screen.
import { Box, Text } from 'ink';
import { fit } from './format.js';

export interface Column {
  title: string;
  width: number;
  align?: 'left' | 'right';
}

export interface TableProps {
  columns: Column[];
  rows: { key: string; cells: string[]; color?: string }[];
  /** Index of the highlighted row, or -1 for none. */
  selected: number;
  /** Lines available for rows (the title line is extra). */
  height: number;
  width: number;
}

/** The first row shown so that `selected` is visible in `height` lines. */
export function scrollTop(selected: number, rows: number, height: number): number {
  if (height <= 0 || rows <= height) return 0;
  return Math.max(0, Math.min(selected - Math.floor(height / 2), rows - height));
}

export function line(columns: Column[], cells: string[], width: number): string {
  return fit(columns.map((c, i) => fit(cells[i] ?? '', c.width, c.align)).join(' '), width);
}

export function Table({ columns, rows, selected, height, width }: TableProps) {
  const top = scrollTop(selected, rows.length, height);
  const shown = rows.slice(top, top + Math.max(0, height));
  return (
    <Box flexDirection="column">
      <Text bold>
        {line(
          columns,
          columns.map((c) => c.title),
          width,
        )}
      </Text>
      {shown.map((r, i) => (
        <Text key={r.key} inverse={top + i === selected} color={r.color}>
          {line(columns, r.cells, width)}
        </Text>
      ))}
    </Box>
  );
}
