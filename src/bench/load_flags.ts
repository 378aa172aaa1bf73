// The flags every closed-loop load command shares (`nyx bench raw` against NyxDB, `nyx
// bench etcd` against etcd), so both sides of a comparison take the same workload.
import { Flags } from '@oclif/core';
import { Workload, type BenchOp } from './workload.js';

/** How long and how wide a closed loop runs (op_runner.ts): every bench command's. */
export const closedLoopFlags = {
  concurrency: Flags.integer({
    description: 'workers, each with one operation in flight',
    default: 64,
    min: 1,
    max: 100_000,
  }),
  duration: Flags.integer({ description: 'measured seconds', default: 10, min: 1 }),
  warmup: Flags.integer({ description: 'unmeasured seconds before', default: 2, min: 0 }),
};

export const loadFlags = {
  op: Flags.string({
    description: 'what each operation is',
    options: ['put', 'get', 'mixed'],
    default: 'put',
  }),
  ...closedLoopFlags,
  'value-size': Flags.integer({ description: 'bytes per value', default: 100, min: 0 }),
  keys: Flags.integer({ description: 'distinct keys, drawn uniformly', default: 10_000, min: 1 }),
  'read-ratio': Flags.string({
    description: 'fraction of gets in a mixed run (0..1)',
    default: '0.5',
  }),
  'server-pids': Flags.string({
    description:
      'comma-separated pids of the server processes: their CPU over the measured window is reported (Linux)',
  }),
};

export interface LoadFlagValues {
  op: string;
  keys: number;
  'value-size': number;
  'read-ratio': string;
  'server-pids'?: string;
}

export function workloadFromFlags(f: LoadFlagValues): Workload {
  const readRatio = Number(f['read-ratio']);
  if (!(readRatio >= 0 && readRatio <= 1)) throw new Error('--read-ratio must be between 0 and 1');
  return new Workload({
    op: f.op as BenchOp,
    keys: f.keys,
    valueSize: f['value-size'],
    readRatio,
  });
}

export function serverPidsFromFlags(f: LoadFlagValues): number[] {
  const s = f['server-pids'];
  if (s === undefined || s.trim() === '') return [];
  return s.split(',').map((x) => {
    const pid = Number(x.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--server-pids: bad pid ${x}`);
    return pid;
  });
}
