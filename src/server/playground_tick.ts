// The Raft tick of a playground's stores. A store's default (100 ms: a 1 s election
// timeout, heartbeats every 200 ms) suits a few thousand Regions; with more, every awake
// Region's heartbeats (four messages per heartbeat interval until it sleeps) outrun what
// three stores on a small machine handle, answers arrive after the next election timeout,
// and 5,000 or more Regions elected at once never settle (README, Many Regions). TiKV
// ticks every second. So a new playground ticks a tenth of a millisecond per Region,
// between 100 ms and 1 s, and keeps that for its life: the tick is the cluster's (PD
// refuses a store that ticks otherwise: leader leases assume every store ticks alike).
import fs from 'node:fs';
import path from 'node:path';

const TICK_FILE = 'raft-tick.json';
/** A store's default tick (DEFAULT_PEER_CONFIG): what playgrounds made before this chose ran. */
export const STORE_DEFAULT_TICK_MS = 100;

export function tickMsForRegions(regions: number): number {
  return Math.min(1000, Math.max(STORE_DEFAULT_TICK_MS, Math.ceil(regions / 10)));
}

/**
 * The tick of the playground in `dataDir`: the one it was made with, or, for a new one,
 * tickMsForRegions(regions), written down for the next start.
 */
export function playgroundTickMs(dataDir: string, regions: number): number {
  const file = path.join(dataDir, TICK_FILE);
  if (fs.existsSync(file)) {
    const { tickMs } = JSON.parse(fs.readFileSync(file, 'utf8')) as { tickMs: unknown };
    if (typeof tickMs !== 'number' || !Number.isInteger(tickMs) || tickMs < 1)
      throw new Error(`${file}: tickMs must be a positive integer, found ${String(tickMs)}`);
    return tickMs;
  }
  // A playground made before this file existed ran its stores at their default.
  const made = fs.existsSync(path.join(dataDir, 'pd'));
  const tickMs = made ? STORE_DEFAULT_TICK_MS : tickMsForRegions(regions);
  fs.writeFileSync(file, JSON.stringify({ tickMs }) + '\n');
  return tickMs;
}
