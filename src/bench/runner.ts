// The RawKV benchmark (`nyx bench raw`, the etcd reference) on the closed-loop load
// generator of op_runner.ts: gets and puts of a Workload's keys against a KvTarget,
// reported as a BenchResult (per-op statistics for a mixed run, the histogram).
import type { HistogramBucket } from './histogram.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { runOperations, type OpProgress } from './op_runner.js';
import type { KvTarget } from './target.js';
import type { BenchOp, Workload } from './workload.js';

export interface RunOptions {
  concurrency: number;
  durationSec: number;
  warmupSec: number;
  /** Called about once a second. */
  onProgress?: (p: OpProgress) => void;
  /** How long to wait for in-flight operations after the end before giving up on them. */
  drainMs?: number;
}

export interface Progress {
  phase: 'warmup' | 'measure';
  /** Seconds since the phase started. */
  elapsedSec: number;
  /** Operations completed in the last interval, per second. */
  opsPerSec: number;
  /** Errors since the start (warmup included). */
  errors: number;
}

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
  errors: number;
  errorKinds: Record<string, number>;
  histogram: HistogramBucket[];
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
