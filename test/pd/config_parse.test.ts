import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG_SCHEMA,
  configDef,
  crossCheck,
  DEFAULT_CONFIG,
  formatConfigValue,
  formatDuration,
  formatSizeExact,
  parseConfigValue,
  parseDuration,
} from '../../src/pd/config/index.js';

test('durations: the units of PD and TiKV configs, chained largest first', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration(' 2h '), 7_200_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('1m30s250ms'), 90_250);
});

test('durations: bare numbers, unknown units, repeated or misordered units are refused', () => {
  for (const bad of ['', '20', '10x', 's', '10 s', '30m1h', '1s1s', '-5s', '10sec', '1d']) {
    assert.throws(() => parseDuration(bad), /not a duration/, bad);
  }
});

test('durations format to text that parses back to the same value', () => {
  for (const ms of [0, 1, 999, 1000, 20_000, 90_250, 1_800_000, 5_400_000, 86_400_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
  assert.equal(formatDuration(1_800_000), '30m');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.throws(() => formatDuration(-1));
});

test('sizes format exactly: a whole binary unit or bytes, never rounded', () => {
  assert.equal(formatSizeExact(144 * 2 ** 20), '144MiB');
  assert.equal(formatSizeExact(2 ** 30), '1GiB');
  assert.equal(formatSizeExact(1536), '1536B');
  assert.equal(formatSizeExact(3 * 2 ** 10), '3KiB');
  assert.equal(formatSizeExact(1000), '1000B');
  assert.equal(formatSizeExact(0), '0B');
});

test('the defaults are the documented ones', () => {
  assert.equal(DEFAULT_CONFIG['store-disconnect-time'], 20_000);
  assert.equal(DEFAULT_CONFIG['max-store-down-time'], 30 * 60_000);
  assert.equal(DEFAULT_CONFIG['region-max-size'], 144 * 2 ** 20);
  assert.equal(DEFAULT_CONFIG['region-split-size'], 96 * 2 ** 20);
  assert.equal(DEFAULT_CONFIG['region-max-keys'], 1_440_000);
  assert.equal(DEFAULT_CONFIG['region-split-keys'], 960_000);
  assert.equal(DEFAULT_CONFIG['max-replicas'], 3);
  assert.equal(crossCheck(DEFAULT_CONFIG), undefined);
});

test('every setting: its default is in bounds and its text round-trips', () => {
  const names = new Set<string>();
  for (const def of CONFIG_SCHEMA) {
    assert.ok(!names.has(def.name), `duplicate ${def.name}`);
    names.add(def.name);
    assert.match(def.name, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(def.description.length > 10, def.name);
    const v = DEFAULT_CONFIG[def.name];
    assert.ok(v >= def.min && v <= def.max, def.name);
    assert.equal(parseConfigValue(def, formatConfigValue(def, v)), v, def.name);
    assert.equal(parseConfigValue(def, formatConfigValue(def, def.min)), def.min, def.name);
    assert.equal(parseConfigValue(def, formatConfigValue(def, def.max)), def.max, def.name);
  }
});

test('values by type; out of bounds and wrong types are refused naming the setting', () => {
  assert.equal(parseConfigValue(configDef('region-split-size'), '64MiB'), 64 * 2 ** 20);
  assert.equal(parseConfigValue(configDef('region-split-keys'), '1_000'), 1000);
  assert.equal(parseConfigValue(configDef('max-store-down-time'), '10s'), 10_000);
  assert.throws(
    () => parseConfigValue(configDef('max-replicas'), '0'),
    /max-replicas must be between 1 and 7, got 0/,
  );
  assert.throws(
    () => parseConfigValue(configDef('max-replicas'), '2.5'),
    /max-replicas: not a whole number/,
  );
  assert.throws(
    () => parseConfigValue(configDef('max-store-down-time'), '10'),
    /max-store-down-time: not a duration/,
  );
  assert.throws(() => parseConfigValue(configDef('region-max-size'), '10 apples'), /not a size/);
  assert.throws(() => parseConfigValue(configDef('store-disconnect-time'), '2d'), /not a duration/);
});

test('an unknown name is refused with its close matches', () => {
  assert.throws(
    () => configDef('max-store-down'),
    // Two words shared with max-peer-down-duration ("max", "down") make it a match too.
    /unknown setting "max-store-down" \(did you mean max-store-down-time, max-peer-down-duration\?\)/,
  );
  assert.throws(() => configDef('zzz'), /unknown setting "zzz" \(nyx pd config show lists them\)/);
});

test('rules between settings: a split makes Regions smaller; liveness times are free', () => {
  const at = (patch: Record<string, number>) => crossCheck({ ...DEFAULT_CONFIG, ...patch });
  assert.match(
    at({ 'region-split-size': 200 * 2 ** 20 })!,
    /region-split-size \(200MiB\) must not exceed region-max-size \(144MiB\)/,
  );
  assert.match(at({ 'region-split-keys': 2_000_000 })!, /region-split-keys/);
  assert.equal(at({ 'region-split-size': 144 * 2 ** 20 }), undefined, 'equal is allowed');
  // `nyx pd config set max-store-down-time 10s` works as one step (Up -> Down directly).
  assert.equal(at({ 'max-store-down-time': 10_000 }), undefined);
  // Low split sizes for tests need no change to the merge sizes first.
  assert.equal(at({ 'region-split-size': 2 ** 20, 'region-max-size': 2 ** 21 }), undefined);
});
