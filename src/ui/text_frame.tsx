// One frame as plain text, for `nyx top --once` and any stdout that is not a terminal:
// the header and every view, drawn by the same components as the live dashboard, with
// every row (a script or a file has no screen height to fit).
import { Box, Text, renderToString } from 'ink';
import { EventsView } from './events_view.js';
import { Header } from './header.js';
import { RegionsView } from './regions_view.js';
import { sortRegions } from './regions_order.js';
import type { ClusterSnapshot } from './snapshot.js';
import { StoresView } from './stores_view.js';

/** Events a text frame lists (newest first). */
export const TEXT_FRAME_EVENTS = 20;

export function renderTextFrame(snap: ClusterSnapshot, width: number): string {
  const regions = sortRegions(snap.regions, 'id');
  const events = snap.events.slice(0, TEXT_FRAME_EVENTS);
  return renderToString(
    <Box flexDirection="column" width={width}>
      <Header snap={snap} width={width} />
      <Text> </Text>
      <Text bold>{`stores (${snap.stores.length})`}</Text>
      <StoresView stores={snap.stores} selected={-1} width={width} height={snap.stores.length} />
      <Text> </Text>
      <Text bold>{`regions (${regions.length})`}</Text>
      <RegionsView regions={regions} selected={-1} width={width} height={regions.length} />
      <Text> </Text>
      <Text bold>{`events (${events.length})`}</Text>
      <EventsView events={events} selected={-1} width={width} height={Math.max(1, events.length)} />
    </Box>,
    { columns: width },
  );
}
