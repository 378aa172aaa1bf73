// The live dashboard: polls a snapshot source about once a second (never two polls at
// once), follows the terminal's size, and maps keys to UI state. A failed poll keeps the
// last frame and says so; the collector itself already reports unreachable processes.
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { fit } from './format.js';
import { CHROME_LINES, Frame, rowCount, visibleRegions } from './frame.js';
import type { ClusterSnapshot } from './snapshot.js';
import { INITIAL_UI, onKey, type UiState } from './ui_state.js';

export interface DashboardProps {
  poll: () => Promise<ClusterSnapshot>;
  intervalMs: number;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: { width: number; height: number };
}

function useTerminalSize(fixed?: { width: number; height: number }) {
  const { stdout } = useStdout();
  const read = () => fixed ?? { width: stdout.columns || 100, height: stdout.rows || 30 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

export function Dashboard({ poll, intervalMs, size: fixedSize }: DashboardProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fixedSize);
  const [snap, setSnap] = useState<ClusterSnapshot | null>(null);
  const [pollError, setPollError] = useState<string | null>(null);
  const [ui, setUi] = useState<UiState>(INITIAL_UI);

  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      const started = Date.now();
      try {
        const s = await poll();
        if (stopped) return;
        setSnap(s);
        setPollError(null);
      } catch (e) {
        if (!stopped) setPollError((e as Error).message);
      }
      if (!stopped) timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - started)));
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [poll, intervalMs]);

  // Keys go through the state updater, so a key that arrives before React re-subscribes
  // the handler still sees the latest state; quitting happens in an effect, not in render.
  const snapRef = useRef(snap);
  snapRef.current = snap;
  const [quitting, setQuitting] = useState(false);
  useInput((input, key) => {
    setUi((cur) => {
      const s = snapRef.current;
      const next = onKey(cur, input, key, {
        rows: rowCount(s, cur),
        regionAt: (i) => visibleRegions(s, cur)[i]?.id,
        page: Math.max(1, size.height - CHROME_LINES),
      });
      if (next !== 'quit') return next;
      setQuitting(true);
      return cur;
    });
  });
  useEffect(() => {
    if (quitting) exit();
  }, [quitting, exit]);

  // The cursor may point past the end after rows went away: keep it on the last row.
  const rows = rowCount(snap, ui);
  const shownUi = ui.cursor >= rows && rows > 0 ? { ...ui, cursor: rows - 1 } : ui;
  // One line less than the terminal: a frame as tall as the screen scrolls it and flickers.
  const height = Math.max(10, size.height - 1 - (pollError ? 1 : 0));
  return (
    <Box flexDirection="column">
      <Frame snap={snap} ui={shownUi} width={size.width} height={height} />
      {pollError ? (
        <Text color="red">{fit(`refresh failed: ${pollError}`, size.width)}</Text>
      ) : null}
    </Box>
  );
}
