// The RawKV benchmark (`nyx bench raw`, the etcd reference) on the closed-loop load
// generator of op_runner.ts: gets and puts of a Workload's keys against a KvTarget,
// reported as a BenchResult (per-op statistics for a mixed run, the histogram).
import type { HistogramBucket } from './histogram.js';
import type { LeaderLayout } from './leader_layout.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { runOperations, type OpRunOptions } from './op_runner.js';
import type { KvTarget } from './target.js';
import type { BenchOp, Workload } from './workload.js';

/** Concurrency, duration, warmup, progress, drain and the server processes to account. */
export type RunOptions = OpRunOptions;

export interface OpStats {
  ops: number;
  opsPerSec: number;
  latencyMs: LatencySummary;
}

export interface BenchResult extends OpStats {
  op: BenchOp;
  concurrency: number;
  keys: number;
  valueSize: number;
  readRatio: number;
  warmupSec: number;
  /** The measured window, in seconds (as timed, not as asked). */
  durationSec: number;
  /** For a mixed run: gets and puts separately. */
  byOp?: { get: OpStats; put: OpStats };
  /**
   * CPU seconds (user + system) the load generator's own process used in the measured
   * window, and per operation: on a machine whose cores the servers share, the client's
   * cost is part of the result.
   */
  clientCpuSec: number;
  clientCpuUsPerOp: number;
  /** CPU seconds of the server processes (serverPids) in the window; absent without them. */
  serverCpuSec?: number;
  serverCpuUsPerOp?: number;
  /** Each server process's CPU seconds in the window, by pid. */
  serverCpuSecByPid?: Record<string, number>;
  errors: number;
  errorKinds: Record<string, number>;
  histogram: HistogramBucket[];
  /** NyxDB in `nyx bench compare`: the leaders per store as the case ended. */
  leaders?: LeaderLayout;
}

export async function runClosedLoop(
  target: KvTarget,
  workload: Workload,
  opts: RunOptions,
): Promise<BenchResult> {
  const r = await runOperations(
    () =>
      workload.nextIsGet()
        ? { kind: 'get', run: () => target.get(workload.randomKey()) }
        : { kind: 'put', run: () => target.put(workload.randomKey(), workload.value()) },
    opts,
  );
  const empty = (): OpStats => ({
    ops: 0,
    opsPerSec: 0,
    latencyMs: new LatencyRecorder().summary(),
  });
  const { byKind, ...rest } = r;
  return {
    op: workload.op,
    keys: workload.keys,
    valueSize: workload.valueSize,
    readRatio: workload.readRatio,
    ...rest,
    ...(workload.op === 'mixed'
      ? { byOp: { get: byKind.get ?? empty(), put: byKind.put ?? empty() } }
      : {}),
  };
}
