// One screen of `nyx top`: header, the selected view, and a footer with the keys. Pure:
// it renders a snapshot and the UI state at a size, so the live dashboard, `--once` and
// the tests all draw the same thing.
import { Box, Text } from 'ink';
import { EventsView } from './events_view.js';
import { fit } from './format.js';
import { Header } from './header.js';
import { RegionDetail } from './region_detail.js';
import { filterRegions, sortRegions } from './regions_order.js';
import { RegionsView } from './regions_view.js';
import type { ClusterSnapshot, RegionRow } from './snapshot.js';
import { StoresView } from './stores_view.js';
import type { UiState } from './ui_state.js';

/** Lines the header (3), a blank, the table title and the footer (2) take. */
export const CHROME_LINES = 7;

export function visibleRegions(snap: ClusterSnapshot | null, ui: UiState): RegionRow[] {
  if (!snap) return [];
  return sortRegions(filterRegions(snap.regions, ui.filter), ui.sort);
}

/** How many rows the current view lists (what the cursor moves over). */
export function rowCount(snap: ClusterSnapshot | null, ui: UiState): number {
  if (!snap) return 0;
  switch (ui.view) {
    case 'stores':
      return snap.stores.length;
    case 'regions':
      return visibleRegions(snap, ui).length;
    case 'events':
      return snap.events.length;
    case 'detail':
      return 0;
  }
}

export function footerText(ui: UiState): string {
  const views = '1 stores  2 regions  3 events  tab next';
  const move = '↑↓/j k move';
  if (ui.editingFilter) return `filter by key: ${ui.filter}▏  enter apply  esc clear`;
  switch (ui.view) {
    case 'regions':
      return `${views}  ${move}  enter detail  s sort:${ui.sort}  / filter${ui.filter ? `:${ui.filter}` : ''}  q quit`;
    case 'detail':
      return `${views}  esc back  q quit`;
    default:
      return `${views}  ${move}  q quit`;
  }
}

export interface FrameProps {
  snap: ClusterSnapshot | null;
  ui: UiState;
  width: number;
  height: number;
}

export function Frame({ snap, ui, width, height }: FrameProps) {
  const w = Math.max(40, width);
  const body = Math.max(1, height - CHROME_LINES);
  if (!snap) {
    return <Text>{fit('nyx top: collecting the first snapshot…', w)}</Text>;
  }
  const regions = visibleRegions(snap, ui);
  let view;
  switch (ui.view) {
    case 'stores':
      view = <StoresView stores={snap.stores} selected={ui.cursor} width={w} height={body} />;
      break;
    case 'regions':
      view = <RegionsView regions={regions} selected={ui.cursor} width={w} height={body} />;
      break;
    case 'detail':
      view = (
        <RegionDetail
          region={snap.regions.find((r) => r.id === ui.detailRegion)}
          regionId={ui.detailRegion}
          events={snap.events}
          selected={ui.cursor}
          width={w}
          height={body}
        />
      );
      break;
    case 'events':
      view = <EventsView events={snap.events} selected={ui.cursor} width={w} height={body} />;
      break;
  }
  const rows = rowCount(snap, ui);
  const position = rows > 0 ? `  row ${Math.min(ui.cursor, rows - 1) + 1}/${rows}` : '';
  const title =
    (ui.view === 'regions'
      ? `regions (${regions.length}${ui.filter ? ` holding key ${ui.filter}` : ''}, by ${ui.sort})`
      : ui.view) + position;
  return (
    <Box flexDirection="column" width={w}>
      <Header snap={snap} width={w} />
      <Text> </Text>
      {view}
      <Text dimColor>{fit(`[${title}]`, w)}</Text>
      <Text inverse>{fit(footerText(ui), w)}</Text>
    </Box>
  );
}
