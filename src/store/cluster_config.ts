// The store's copy of PD's configuration (src/pd/config/): the values the store acts on
// now, starting from the defaults and replaced as PD pushes changes in store heartbeat
// replies (pd_worker.ts). Readers call it each time they decide (a split checker reads
// the thresholds on every check), so a `nyx pd config set` takes effect without restart.
//
//   const t = store.clusterConfig.splitThresholds();
//   if (approximateSize > t.maxSize) splitAt(t.splitSize) ...
import {
  configDef,
  isConfigName,
  type PdConfigName,
  type PdConfigValues,
} from '../pd/config/schema.js';
import { DEFAULT_CONFIG, parseConfigValue } from '../pd/config/value.js';
import type { ConfigEntry } from '../pd/config/pd_config.js';

/** When a Region is split, as TiKV's split checker reads it (coprocessor config). */
export interface SplitThresholds {
  /** Split a Region larger than this (bytes)... */
  maxSize: number;
  /** ...into parts of about this size (bytes). */
  splitSize: number;
  /** Split a Region with more keys than this... */
  maxKeys: number;
  /** ...into parts of about this many keys. */
  splitKeys: number;
}

export type ConfigChangeListener = (changed: PdConfigName[], values: PdConfigValues) => void;

export class StoreClusterConfig {
  private current: PdConfigValues;
  private ver = 0;
  private readonly listeners: ConfigChangeListener[] = [];

  /** `initial` overrides the defaults until PD speaks (tests, or a store's own flags). */
  constructor(initial: Partial<PdConfigValues> = {}) {
    this.current = Object.freeze({ ...DEFAULT_CONFIG, ...initial });
  }

  /** PD's config version these values came from; 0 while the store has the defaults. */
  get version(): number {
    return this.ver;
  }

  /** Every current value (frozen; a new object after each change). */
  get values(): PdConfigValues {
    return this.current;
  }

  get(name: PdConfigName): number {
    return this.current[name];
  }

  splitThresholds(): SplitThresholds {
    const v = this.current;
    return {
      maxSize: v['region-max-size'],
      splitSize: v['region-split-size'],
      maxKeys: v['region-max-keys'],
      splitKeys: v['region-split-keys'],
    };
  }

  /** Calls fn after every change PD pushes, with the names that changed. */
  onChange(fn: ConfigChangeListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Takes PD's full settings at `version`. A name this store does not know (a newer PD)
   * is skipped; so is a value it cannot parse, which keeps the previous one: PD validated
   * it, so that is version skew, and the rest of the settings still apply. Returns the
   * names that changed and the entries skipped, for the caller to log.
   */
  apply(
    version: number,
    entries: ConfigEntry[],
  ): { changed: PdConfigName[]; skipped: { name: string; reason: string }[] } {
    const next: Record<string, number> = { ...this.current };
    const skipped: { name: string; reason: string }[] = [];
    for (const e of entries) {
      if (!isConfigName(e.name)) {
        skipped.push({ name: e.name, reason: 'unknown to this store' });
        continue;
      }
      try {
        next[e.name] = parseConfigValue(configDef(e.name), e.value);
      } catch (err) {
        skipped.push({ name: e.name, reason: (err as Error).message });
      }
    }
    const changed = (Object.keys(next) as PdConfigName[]).filter(
      (n) => next[n] !== this.current[n],
    );
    this.current = Object.freeze(next as PdConfigValues);
    this.ver = version;
    if (changed.length > 0) for (const fn of this.listeners) fn(changed, this.current);
    return { changed, skipped };
  }
}
