// The closed-loop load generator: C workers, each with exactly one operation in flight,
// issue the next as soon as the last one answers. Throughput is what the system under
// test sustains at that concurrency; latency is per operation as the caller sees it,
// client-side queueing and batching included. A warmup period runs the same load
// unrecorded (connections, JIT, caches); then operations that complete inside the
// measured window are counted and timed. Failures are counted by kind and the worker
// pauses briefly, so an unavailable store produces an error count, not a hot spin.
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
