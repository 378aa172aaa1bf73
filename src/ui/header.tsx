// The cluster header: who and how the cluster is, in three lines.
import { Box, Text } from 'ink';
import { fit, fmtDuration, fmtMs, fmtRate, NONE } from './format.js';
import type { ClusterSnapshot } from './snapshot.js';

export function Header({ snap, width }: { snap: ClusterSnapshot; width: number }) {
  const t = snap.totals;
  const pd = snap.pd.reachable
    ? `PD ${snap.pd.address}  cluster ${snap.pd.clusterId ?? NONE}  up ${fmtDuration(snap.pd.uptimeSec)}`
    : `PD ${snap.pd.address}  UNREACHABLE (${snap.pd.error ?? 'no answer'})  cluster ${snap.pd.clusterId ?? NONE}`;
  const stores = `stores ${t.storesUp} up / ${t.storesDisconnected} disconnected / ${t.storesDown} down`;
  const regions = `regions ${t.regions}  no leader ${t.regionsWithoutLeader}  under-replicated ${t.underReplicated}`;
  // Per-minute rates are rounded like the per-second ones (fmtRate).
  const perMin = fmtRate;
  const load =
    `tso ${fmtRate(t.tsoPerSec)}/s  reads ${fmtRate(t.readsPerSec)}/s  writes ${fmtRate(t.writesPerSec)}/s` +
    `  p99 ${fmtMs(t.p99Ms)}  txn ${fmtRate(t.txnsPerSec)}/s  conflicts ${perMin(t.conflictsPerMin)}/m` +
    `  splits ${t.splitsPerMin}/m  merges ${t.mergesPerMin}/m  operators ${perMin(t.operatorsPerMin)}/m`;
  const bad = t.storesDisconnected + t.storesDown + t.regionsWithoutLeader + t.underReplicated > 0;
  return (
    <Box flexDirection="column">
      <Text bold color={snap.pd.reachable ? undefined : 'red'}>
        {fit(`nyx top  ${pd}`, width)}
      </Text>
      <Text color={bad ? 'yellow' : undefined}>{fit(`${stores}   ${regions}`, width)}</Text>
      <Text>{fit(load, width)}</Text>
    </Box>
  );
}
