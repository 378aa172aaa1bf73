// The PD configuration: every cluster-wide scheduling and liveness knob, declared once
// with its type, default, bounds and meaning. PD persists the values (meta_store.ts),
// `nyx pd config show|set` reads and changes them, and stores receive them in the store
// heartbeat reply (store/cluster_config.ts). Names and defaults follow PD's own
// (pd/server/config: schedule.* and replication.*) and TiKV's coprocessor split settings.
//
// Every value is a number in one base unit: durations in milliseconds, sizes in bytes,
// counts as they are. Text (flags, the wire, the meta store) goes through one parser.

export type ConfigType = 'duration' | 'size' | 'count';

export interface ConfigItemDef {
  readonly name: string;
  readonly type: ConfigType;
  /** The default as people write it; parsed by the same parser as `config set`. */
  readonly default: string;
  /** Inclusive bounds in the base unit (ms, bytes, count). */
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MIB = 2 ** 20;
const TIB = 2 ** 40;

/** Declared `as const` so that config names are a type (PdConfigName). */
export const CONFIG_SCHEMA = [
  // --- store liveness (PD: schedule.max-store-down-time; the disconnect time is PD's
  // fixed storeDisconnectDuration, made a setting here so tests can shorten it) ---
  {
    name: 'store-disconnect-time',
    type: 'duration',
    default: '20s',
    min: SECOND,
    max: DAY,
    description:
      'A store with no heartbeat for this long is Disconnected (no new work is sent to it)',
  },
  {
    name: 'max-store-down-time',
    type: 'duration',
    default: '30m',
    min: SECOND,
    max: 30 * DAY,
    description:
      'A store with no heartbeat for this long is Down: its replicas are re-made on other stores',
  },
  // --- peer liveness (TiKV: raftstore.max-peer-down-duration, 10m). A PD setting here so
  // that one `nyx pd config set` reaches every store (store heartbeat replies) ---
  {
    name: 'max-peer-down-duration',
    type: 'duration',
    default: '10m',
    min: SECOND,
    max: 30 * DAY,
    description:
      'A Region leader that has heard nothing from a peer for this long reports it down to PD',
  },
  // --- replication (PD: replication.max-replicas) ---
  {
    name: 'max-replicas',
    type: 'count',
    default: '3',
    min: 1,
    max: 7,
    description: 'Replicas (voters) every Region should have',
  },
  // --- Region size (TiKV: coprocessor.region-max-size and friends) ---
  {
    name: 'region-max-size',
    type: 'size',
    default: '144MiB',
    min: 1,
    max: 64 * 1024 * MIB,
    description: 'A Region larger than this is split (at region-split-size steps)',
  },
  {
    name: 'region-split-size',
    type: 'size',
    default: '96MiB',
    min: 1,
    max: 64 * 1024 * MIB,
    description: 'The size of each part when a Region over region-max-size is split',
  },
  {
    name: 'region-max-keys',
    type: 'count',
    default: '1440000',
    min: 1,
    max: 2 ** 40,
    description: 'A Region with more keys than this is split (at region-split-keys steps)',
  },
  {
    name: 'region-split-keys',
    type: 'count',
    default: '960000',
    min: 1,
    max: 2 ** 40,
    description: 'The key count of each part when a Region over region-max-keys is split',
  },
  // --- merge (PD: schedule.max-merge-region-size/keys, split-merge-interval) ---
  {
    name: 'max-merge-region-size',
    type: 'size',
    default: '20MiB',
    min: 0,
    max: TIB,
    description: 'Regions at most this large may be merged into a neighbour (0 disables merge)',
  },
  {
    name: 'max-merge-region-keys',
    type: 'count',
    default: '200000',
    min: 0,
    max: 2 ** 40,
    description: 'Regions with at most this many keys may be merged into a neighbour',
  },
  {
    name: 'split-merge-interval',
    type: 'duration',
    default: '1h',
    min: 0,
    max: 30 * DAY,
    description: 'A Region that split is not merged again for this long',
  },
  // --- scheduling limits (PD: schedule.*-schedule-limit, max-snapshot-count) ---
  {
    name: 'leader-schedule-limit',
    type: 'count',
    default: '4',
    min: 0,
    max: 1024,
    description: 'Leader transfers PD may have in flight at once',
  },
  {
    name: 'region-schedule-limit',
    type: 'count',
    default: '2048',
    min: 0,
    max: 65536,
    description: 'Replica moves (add/remove peer operators) PD may have in flight at once',
  },
  {
    name: 'replica-schedule-limit',
    type: 'count',
    default: '64',
    min: 0,
    max: 65536,
    description: 'Operators repairing missing or down replicas PD may have in flight at once',
  },
  {
    name: 'merge-schedule-limit',
    type: 'count',
    default: '8',
    min: 0,
    max: 65536,
    description: 'Merge operators PD may have in flight at once (0 disables merge)',
  },
  {
    name: 'hot-region-schedule-limit',
    type: 'count',
    default: '4',
    min: 0,
    max: 1024,
    description: 'Operators for hot Regions PD may have in flight at once',
  },
  {
    name: 'max-snapshot-count',
    type: 'count',
    default: '64',
    min: 1,
    max: 65536,
    description: 'Snapshots one store may be sending or receiving at once before PD holds back',
  },
  {
    name: 'store-limit',
    type: 'count',
    default: '4',
    min: 1,
    max: 1024,
    description:
      'Operators that add a replica (and so send it a snapshot) one store may be receiving at once',
  },
  {
    name: 'max-pending-peer-count',
    type: 'count',
    default: '64',
    min: 1,
    max: 65536,
    description: 'Lagging (pending) peers one store may have before PD adds no more to it',
  },
  {
    name: 'schedule-interval',
    type: 'duration',
    default: '1s',
    min: 10,
    max: HOUR,
    description: 'How often each scheduler (balance-leader, balance-region) looks for work',
  },
  {
    name: 'patrol-region-interval',
    type: 'duration',
    default: '100ms',
    min: 1,
    max: HOUR,
    description: 'How often the checkers (replica, merge, split) visit the next batch of Regions',
  },
  // --- hot Regions (PD: hot-region-cache-hits-threshold; TiKV: split.qps-threshold) ---
  {
    name: 'hot-region-cache-hits-threshold',
    type: 'count',
    default: '3',
    min: 1,
    max: 1000,
    description: 'Heartbeats in a row a Region must be over a hot threshold to count as hot',
  },
  {
    name: 'hot-region-write-bytes-threshold',
    type: 'size',
    default: '1MiB',
    min: 0,
    max: TIB,
    description: 'Written bytes per second over which a Region is hot for writes',
  },
  {
    name: 'hot-region-read-qps-threshold',
    type: 'count',
    default: '3000',
    min: 0,
    max: 2 ** 40,
    description: 'Keys read per second over which a Region is hot for reads',
  },
  // --- load split (TiKV: split.qps-threshold, split.byte-threshold, split.detect-times) ---
  {
    name: 'split-qps-threshold',
    type: 'count',
    default: '3000',
    min: 1,
    max: 2 ** 40,
    description:
      'Read requests per second a Region must serve for split-detect-times seconds in a row to be split by load',
  },
  {
    name: 'split-byte-threshold',
    type: 'size',
    default: '30MiB',
    min: 1,
    max: TIB,
    description:
      'Bytes read per second a Region must serve for split-detect-times seconds in a row to be split by load',
  },
  {
    name: 'split-detect-times',
    type: 'count',
    default: '10',
    min: 1,
    max: 3600,
    description:
      'Seconds in a row a Region must be over a split threshold before it is split by load',
  },
  // --- GC (PD: gc_life_time of TiDB's GC worker; TiKV: gc.run-interval) ---
  {
    name: 'gc-life-time',
    type: 'duration',
    default: '10m',
    min: SECOND,
    max: 30 * DAY,
    description:
      'Versions stay readable this long after they are overwritten (the GC safe point trails now by it)',
  },
  {
    name: 'gc-run-interval',
    type: 'duration',
    default: '10s',
    min: 100,
    max: HOUR,
    description: 'How often each store fetches the GC safe point and collects below it',
  },
] as const satisfies readonly ConfigItemDef[];

export type PdConfigName = (typeof CONFIG_SCHEMA)[number]['name'];

/** One number per setting, in base units (ms, bytes, count). */
export type PdConfigValues = Readonly<Record<PdConfigName, number>>;

const BY_NAME: ReadonlyMap<string, ConfigItemDef> = new Map(
  CONFIG_SCHEMA.map((d) => [d.name, d as ConfigItemDef]),
);

export function isConfigName(name: string): name is PdConfigName {
  return BY_NAME.has(name);
}

/** The definition of a setting; throws, naming the close matches, for an unknown name. */
export function configDef(name: string): ConfigItemDef {
  const def = BY_NAME.get(name);
  if (def) return def;
  const near = CONFIG_SCHEMA.map((d) => d.name).filter(
    (n) => n.includes(name) || name.includes(n) || sharedWords(n, name) >= 2,
  );
  throw new Error(
    `unknown setting ${JSON.stringify(name)}` +
      (near.length > 0
        ? ` (did you mean ${near.join(', ')}?)`
        : ' (nyx pd config show lists them)'),
  );
}

function sharedWords(a: string, b: string): number {
  const words = new Set(a.split('-'));
  return b.split('-').filter((w) => words.has(w)).length;
}
