// Text <-> value for one setting, by its type. The only parser of config text: flags, the
// wire and the meta store all go through here, so "64MiB" means the same everywhere.
import { parseSize } from '../../common/size.js';
import { formatDuration, parseDuration } from './duration.js';
import {
  CONFIG_SCHEMA,
  configDef,
  type ConfigItemDef,
  type PdConfigName,
  type PdConfigValues,
} from './schema.js';

/** The value of `text` for setting `def`, in base units; throws a one-line error. */
export function parseConfigValue(def: ConfigItemDef, text: string): number {
  let v: number;
  try {
    v = parseByType(def, text);
  } catch (e) {
    throw new Error(`${def.name}: ${(e as Error).message}`);
  }
  if (v < def.min || v > def.max) {
    throw new Error(
      `${def.name} must be between ${formatConfigValue(def, def.min)} and ` +
        `${formatConfigValue(def, def.max)}, got ${text.trim()}`,
    );
  }
  return v;
}

function parseByType(def: ConfigItemDef, text: string): number {
  switch (def.type) {
    case 'duration':
      return parseDuration(text);
    case 'size':
      return parseSize(text);
    case 'count': {
      const s = text.trim().replaceAll('_', '');
      if (!/^\d+$/.test(s)) throw new Error(`not a whole number: ${JSON.stringify(text)}`);
      const n = Number(s);
      if (!Number.isSafeInteger(n)) throw new Error(`${JSON.stringify(text)} is too large`);
      return n;
    }
  }
}

/** The canonical text of a value, which parseConfigValue reads back to the same value. */
export function formatConfigValue(def: ConfigItemDef, v: number): string {
  switch (def.type) {
    case 'duration':
      return formatDuration(v);
    case 'size':
      return formatSizeExact(v);
    case 'count':
      return String(v);
  }
}

/** "96MiB" when the size is a whole number of a binary unit, else bytes: exact, never rounded. */
export function formatSizeExact(bytes: number): string {
  if (bytes === 0) return '0B';
  for (const [unit, size] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

function computeDefaults(): PdConfigValues {
  const out: Record<string, number> = {};
  for (const def of CONFIG_SCHEMA) out[def.name] = parseConfigValue(def, def.default);
  const values = out as PdConfigValues;
  const problem = crossCheck(values);
  // The defaults are code: a contradiction among them is a bug, caught at import.
  if (problem) throw new Error(`PD config defaults are inconsistent: ${problem}`);
  return Object.freeze(values);
}

export const DEFAULT_CONFIG: PdConfigValues = computeDefaults();

/**
 * Rules between settings: a split must make Regions smaller than the size that triggers
 * it (TiKV refuses region-split-size > region-max-size at start, and likewise for keys).
 * Not a rule: store-disconnect-time <= max-store-down-time. A store simply goes from Up
 * straight to Down when the down time is the shorter (what `set max-store-down-time 10s`
 * must mean in a test), and merge sizes above the split size only make merges rarer.
 * Returns the first broken rule, or undefined.
 */
export function crossCheck(v: PdConfigValues): string | undefined {
  const pairs: [PdConfigName, PdConfigName, string][] = [
    ['region-split-size', 'region-max-size', 'a split must make Regions smaller'],
    ['region-split-keys', 'region-max-keys', 'a split must make Regions smaller'],
  ];
  for (const [small, large, why] of pairs) {
    if (v[small] > v[large]) {
      const s = configDef(small);
      const l = configDef(large);
      return (
        `${small} (${formatConfigValue(s, v[small])}) must not exceed ` +
        `${large} (${formatConfigValue(l, v[large])}): ${why}`
      );
    }
  }
  return undefined;
}
