// PD's live configuration over its real meta store (pd.db in a temp dir), the store's
// copy of it, and the two RPCs and the heartbeat push through a real PdServer + PdClient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { PdClient } from '../../src/client/pd_client.js';
import { PdError, PdErrorCode } from '../../src/pd/errors.js';
import { PdConfig } from '../../src/pd/config/pd_config.js';
import { DEFAULT_CONFIG } from '../../src/pd/config/value.js';
import { PdMetaStore } from '../../src/pd/meta_store.js';
import { PdServer } from '../../src/server/pd_server.js';
import { StoreClusterConfig } from '../../src/store/cluster_config.js';
import { tempDir } from './helpers.js';

test('a setting persists across reopening; only changed settings are stored', (t) => {
  const dir = tempDir(t);
  const meta = PdMetaStore.open(dir);
  const cfg = new PdConfig(meta);
  assert.equal(cfg.version, 0);
  assert.deepEqual(cfg.values, DEFAULT_CONFIG);
  const seen: string[] = [];
  cfg.onChange((name) => seen.push(name));
  const r = cfg.set('max-store-down-time', '10s');
  assert.equal(r.old.value, '30m');
  assert.equal(r.now.value, '10s');
  assert.equal(cfg.get('max-store-down-time'), 10_000);
  cfg.set('region-split-size', '64MiB');
  assert.deepEqual(seen, ['max-store-down-time', 'region-split-size']);
  assert.equal(cfg.version, 2);
  assert.deepEqual(meta.loadConfig().entries, [
    { name: 'max-store-down-time', value: '10s' },
    { name: 'region-split-size', value: '64MiB' },
  ]);
  cfg.set('region-split-size', '96MiB');
  assert.deepEqual(meta.loadConfig().entries, [{ name: 'max-store-down-time', value: '10s' }]);
  meta.close();

  const meta2 = PdMetaStore.open(dir);
  t.after(() => meta2.close());
  const again = new PdConfig(meta2);
  assert.equal(again.version, 3);
  assert.equal(again.get('max-store-down-time'), 10_000);
  assert.equal(again.get('region-split-size'), 96 * 2 ** 20);
});

test('a refused value changes nothing, in memory or on disk', (t) => {
  const meta = PdMetaStore.open(tempDir(t));
  t.after(() => meta.close());
  const cfg = new PdConfig(meta);
  assert.throws(() => cfg.set('region-split-size', '1GiB'), /must not exceed region-max-size/);
  assert.throws(() => cfg.set('max-replicas', 'three'), /not a whole number/);
  assert.throws(() => cfg.set('no-such-thing', '1'), /unknown setting/);
  assert.equal(cfg.version, 0);
  assert.deepEqual(cfg.values, DEFAULT_CONFIG);
  assert.deepEqual(meta.loadConfig(), { entries: [], version: 0 });
});

test('PD refuses to start on a stored value it cannot take, and skips names it does not know', (t) => {
  const meta = PdMetaStore.open(tempDir(t));
  t.after(() => meta.close());
  meta.saveConfig([{ name: 'some-future-knob', value: 'x' }], 1);
  assert.equal(new PdConfig(meta).version, 1);
  meta.saveConfig([{ name: 'max-replicas', value: '99' }], 2);
  assert.throws(() => new PdConfig(meta), /max-replicas must be between 1 and 7/);
  meta.saveConfig(
    [
      { name: 'region-split-size', value: '1GiB' },
      { name: 'region-max-size', value: '10MiB' },
    ],
    3,
  );
  assert.throws(() => new PdConfig(meta), /stored PD config is inconsistent/);
});

test('the store copy: defaults first, PD values applied, unknown and unparsable skipped', () => {
  const c = new StoreClusterConfig();
  assert.equal(c.version, 0);
  assert.deepEqual(c.splitThresholds(), {
    maxSize: 144 * 2 ** 20,
    splitSize: 96 * 2 ** 20,
    maxKeys: 1_440_000,
    splitKeys: 960_000,
  });
  const heard: string[][] = [];
  const off = c.onChange((names) => heard.push(names));
  const r = c.apply(4, [
    { name: 'region-split-size', value: '1MiB' },
    { name: 'region-max-size', value: '2MiB' },
    { name: 'max-replicas', value: '3' },
    { name: 'from-the-future', value: '1' },
    { name: 'region-max-keys', value: 'lots' },
  ]);
  assert.deepEqual(r.changed, ['region-max-size', 'region-split-size']);
  assert.deepEqual(
    r.skipped.map((s) => s.name),
    ['from-the-future', 'region-max-keys'],
  );
  assert.equal(c.version, 4);
  assert.equal(c.splitThresholds().splitSize, 2 ** 20);
  assert.equal(c.get('region-max-keys'), 1_440_000, 'an unparsable value keeps the old one');
  assert.deepEqual(heard, [['region-max-size', 'region-split-size']]);
  off();
  c.apply(5, [{ name: 'region-split-size', value: '512KiB' }]);
  assert.equal(heard.length, 1, 'unsubscribed');
  c.apply(6, [{ name: 'region-split-size', value: '512KiB' }]);
  assert.equal(c.version, 6, 'the version moves even when nothing changed');
});

test('GetConfig / SetConfig over gRPC; the store heartbeat carries settings only when stale', async (t) => {
  const dir = tempDir(t);
  const start = () =>
    PdServer.start({
      dataDir: dir,
      addr: '127.0.0.1:0',
      statusAddr: '127.0.0.1:0',
      initialStores: 3,
      logger: pino({ level: 'silent' }),
    });
  let server = await start();
  t.after(() => server.stop());
  let pd = PdClient.connect(server.grpcAddress, { timeoutMs: 5000 });
  t.after(() => pd.close());

  const shown = await pd.getConfig();
  assert.equal(shown.version, 0);
  const down = shown.items.find((i) => i.name === 'max-store-down-time')!;
  assert.deepEqual(
    { value: down.value, default: down.default, type: down.type },
    { value: '30m', default: '30m', type: 'duration' },
  );
  const set = await pd.setConfig('max-store-down-time', '10s');
  assert.deepEqual([set.old.value, set.now.value, set.version], ['30m', '10s', 1]);
  await assert.rejects(
    pd.setConfig('max-replicas', '0'),
    (e: unknown) =>
      e instanceof PdError &&
      e.code === PdErrorCode.InvalidArgument &&
      /max-replicas must be between 1 and 7/.test(e.message),
  );

  await pd.putStore({ id: 1, address: '127.0.0.1:20161', statusAddress: '' });
  const first = await pd.storeHeartbeat({ storeId: 1 }, 0);
  assert.equal(first.config?.version, 1);
  assert.ok(
    first.config.entries.some((e) => e.name === 'max-store-down-time' && e.value === '10s'),
  );
  assert.equal(first.config.entries.length, (await pd.getConfig()).items.length, 'every setting');
  const current = await pd.storeHeartbeat({ storeId: 1 }, 1);
  assert.equal(current.config, undefined, 'nothing to send to a store that is current');

  // Restart PD: the value and the version survive.
  pd.close();
  await server.stop();
  server = await start();
  pd = PdClient.connect(server.grpcAddress, { timeoutMs: 5000 });
  const after = await pd.getConfig();
  assert.equal(after.version, 1);
  assert.equal(after.items.find((i) => i.name === 'max-store-down-time')!.value, '10s');
});
