// The chaos runner's options and their command line form. The flags of a long run are
// exactly `--nemesis kill,pause,partition --duration 10m --seed S`; the rest are optional.
export const NEMESES = [
  'kill',
  'pause',
  'partition',
  'transfer',
  'split',
  'move',
  'failpoint',
  'merge',
] as const;
export type NemesisName = (typeof NEMESES)[number];

/** rawkv: get/put/delete/cas, linearizability; bank and append: transactions. */
export const WORKLOADS = ['rawkv', 'bank', 'append'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** A replica move needs a store without a replica of the Region: 3 replicas, 4 stores. */
export const MOVE_MIN_STORES = 4;

export interface ChaosOptions {
  nemeses: NemesisName[];
  workload: WorkloadName;
  durationMs: number;
  seed: number;
  /** Stores in the cluster: 3, 4 or 5 (4 by default when `move` is asked for). */
  stores: 3 | 4 | 5;
  /** Keep the run's directory (history, logs) even when the run passes. */
  keep: boolean;
  /**
   * Compact a Region's Raft log once it holds more than this many entries, every second
   * (the stores' --raft-log-gc-threshold), so that compaction, the log's purge and
   * snapshots to restarted stores run under the faults; undefined: the stores' default.
   */
  logGc?: number;
}

export const USAGE =
  'usage: node dist/test/chaos/cli.js --nemesis kill,pause,partition --duration 90s --seed S ' +
  `[--workload ${WORKLOADS.join('|')}] [--stores 3|4|5] [--log-gc ENTRIES] [--keep]`;

/** "90s", "10m", "1h", "500ms" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`a duration looks like 90s, 10m or 1h, not ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms <= 0) throw new Error(`a duration must be positive: ${text}`);
  return ms;
}

/** The shortest exact form of a duration, so a re-run command says what the run did. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function parseArgs(argv: readonly string[]): ChaosOptions {
  const values = new Map<string, string>();
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--keep') {
      keep = true;
      continue;
    }
    const m = /^--(nemesis|duration|seed|stores|workload|log-gc)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}\n${USAGE}`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
    values.set(m[1]!, v);
  }
  for (const required of ['nemesis', 'duration', 'seed']) {
    if (!values.has(required)) throw new Error(`--${required} is required\n${USAGE}`);
  }
  const nemeses = values
    .get('nemesis')!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (nemeses.length === 0)
    throw new Error(`--nemesis names at least one of ${NEMESES.join(', ')}`);
  for (const n of nemeses) {
    if (!(NEMESES as readonly string[]).includes(n)) {
      throw new Error(`unknown nemesis ${n}: choose from ${NEMESES.join(', ')}`);
    }
  }
  const seed = Number(values.get('seed'));
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error('--seed must be a non-negative integer');
  const workload = values.get('workload') ?? 'rawkv';
  if (!(WORKLOADS as readonly string[]).includes(workload)) {
    throw new Error(`unknown workload ${workload}: choose from ${WORKLOADS.join(', ')}`);
  }
  const move = nemeses.includes('move');
  const stores = Number(values.get('stores') ?? (move ? String(MOVE_MIN_STORES) : '3'));
  if (stores !== 3 && stores !== 4 && stores !== 5) throw new Error('--stores must be 3, 4 or 5');
  if (move && stores < MOVE_MIN_STORES) {
    throw new Error(`the move nemesis needs --stores ${MOVE_MIN_STORES} or more (3 replicas)`);
  }
  const logGcText = values.get('log-gc');
  const logGc = logGcText === undefined ? undefined : Number(logGcText);
  if (logGc !== undefined && (!Number.isSafeInteger(logGc) || logGc < 1))
    throw new Error('--log-gc must be a positive number of entries');
  return {
    ...(logGc !== undefined ? { logGc } : {}),
    nemeses: [...new Set(nemeses)] as NemesisName[],
    workload: workload as WorkloadName,
    durationMs: parseDuration(values.get('duration')!),
    seed,
    stores,
    keep,
  };
}

/** The command that re-runs a run with the same schedule. */
export function rerunCommand(o: ChaosOptions): string {
  return (
    `npm run chaos -- --workload ${o.workload} --nemesis ${o.nemeses.join(',')} ` +
    `--duration ${formatDuration(o.durationMs)} --seed ${o.seed} --stores ${o.stores}` +
    (o.logGc !== undefined ? ` --log-gc ${o.logGc}` : '') +
    (o.keep ? ' --keep' : '')
  );
}
