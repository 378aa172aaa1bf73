// PD's live configuration: the current values, changed by `nyx pd config set`, persisted
// before they are served ("persist, then serve", as the id and TSO allocators do), and
// versioned so that stores fetch them only when they changed (the store heartbeat carries
// the version a store has; the reply carries the values when PD's is newer).
import {
  CONFIG_SCHEMA,
  configDef,
  isConfigName,
  type ConfigType,
  type PdConfigName,
  type PdConfigValues,
} from './schema.js';
import { crossCheck, DEFAULT_CONFIG, formatConfigValue, parseConfigValue } from './value.js';

/** A setting as text, its canonical form: what travels on the wire and in pd.db. */
export interface ConfigEntry {
  name: string;
  value: string;
}

/** The narrow port PdConfig needs from the meta store. */
export interface ConfigPersistence {
  /** Only settings changed from their defaults are stored. */
  loadConfig(): { entries: ConfigEntry[]; version: number };
  /** Writes the settings and the new version in one transaction. */
  saveConfig(entries: ConfigEntry[], version: number): void;
}

/** One setting as `nyx pd config show` prints it. */
export interface ConfigItemView {
  name: string;
  type: ConfigType;
  value: string;
  default: string;
  description: string;
}

export class PdConfig {
  private current: PdConfigValues;
  private ver: number;
  private readonly listeners: ((name: PdConfigName, values: PdConfigValues) => void)[] = [];

  constructor(private readonly persistence: ConfigPersistence) {
    const { entries, version } = persistence.loadConfig();
    const values: Record<string, number> = { ...DEFAULT_CONFIG };
    for (const e of entries) {
      // A setting this binary no longer knows (written by a newer one) is left alone.
      if (!isConfigName(e.name)) continue;
      // A stored value this binary refuses would make PD act on a setting nobody chose:
      // fail loudly at start instead.
      values[e.name] = parseConfigValue(configDef(e.name), e.value);
    }
    const problem = crossCheck(values as PdConfigValues);
    if (problem) throw new Error(`stored PD config is inconsistent: ${problem}`);
    this.current = Object.freeze(values as PdConfigValues);
    this.ver = version;
  }

  /** The current values; a new frozen object after every change. */
  get values(): PdConfigValues {
    return this.current;
  }

  /** Grows by one with every change; 0 until the first. */
  get version(): number {
    return this.ver;
  }

  get(name: PdConfigName): number {
    return this.current[name];
  }

  /** Calls fn after every change (e.g. PD's liveness timers). */
  onChange(fn: (name: PdConfigName, values: PdConfigValues) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Parses, validates (bounds and the rules between settings), persists, then serves the
   * new value. Throws a one-line error and changes nothing when the value is refused.
   */
  set(name: string, text: string): { old: ConfigItemView; now: ConfigItemView } {
    const def = configDef(name);
    const key = def.name as PdConfigName;
    const value = parseConfigValue(def, text);
    const next = { ...this.current, [key]: value } as PdConfigValues;
    const problem = crossCheck(next);
    if (problem) throw new Error(problem);
    const old = this.item(key);
    this.persistence.saveConfig(changedEntries(next), this.ver + 1);
    this.current = Object.freeze(next);
    this.ver += 1;
    for (const fn of this.listeners) fn(key, this.current);
    return { old, now: this.item(key) };
  }

  /** Every setting as canonical text (what stores receive). */
  entries(): ConfigEntry[] {
    return CONFIG_SCHEMA.map((d) => ({
      name: d.name,
      value: formatConfigValue(d, this.current[d.name]),
    }));
  }

  items(): ConfigItemView[] {
    return CONFIG_SCHEMA.map((d) => this.item(d.name));
  }

  item(name: PdConfigName): ConfigItemView {
    const def = configDef(name);
    return {
      name,
      type: def.type,
      value: formatConfigValue(def, this.current[name]),
      default: formatConfigValue(def, DEFAULT_CONFIG[name]),
      description: def.description,
    };
  }
}

function changedEntries(v: PdConfigValues): ConfigEntry[] {
  return CONFIG_SCHEMA.filter((d) => v[d.name] !== DEFAULT_CONFIG[d.name]).map((d) => ({
    name: d.name,
    value: formatConfigValue(d, v[d.name]),
  }));
}
