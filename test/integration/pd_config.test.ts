// `nyx pd config` against a real cluster: a change is persisted by PD (it survives a PD
// restart) and reaches every store through the store heartbeat, also a store that was
// down when it was made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nyx } from '../cli/nyx.js';
import { eventually, TestCluster } from './cluster.js';

async function storeConfig(c: TestCluster, name: string): Promise<Record<string, number>> {
  const res = await fetch(`http://${c.pg.process(name).status}/config`);
  return (await res.json()) as Record<string, number>;
}

test('nyx pd config set persists across a PD restart and reaches the stores', async (t) => {
  const c = await TestCluster.start({ stores: 3 });
  t.after(() => c.stop());

  const shown = await nyx(['pd', 'config', 'show', '--pd', c.pd, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  const before = JSON.parse(shown.stdout) as {
    version: number;
    items: { name: string; value: string }[];
  };
  assert.equal(before.items.find((i) => i.name === 'region-split-size')?.value, '96MiB');

  const set = await nyx(['pd', 'config', 'set', 'region-split-size', '1MiB', '--pd', c.pd]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.stdout.trim(), 'region-split-size: 96MiB -> 1MiB');

  const refused = await nyx(['pd', 'config', 'set', 'region-split-size', '1GiB', '--pd', c.pd]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^Error: region-split-size \(1GiB\) must not exceed region-max-size \(144MiB\)/,
  );
  assert.equal(refused.stdout, '');
  const unknown = await nyx(['pd', 'config', 'show', 'region-split', '--pd', c.pd]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /did you mean region-split-size, region-split-keys/);

  // Every store applies it within a few heartbeats (2 s apart).
  for (const name of c.storeNames()) {
    await eventually(`${name} to apply the change`, async () => {
      const cfg = await storeConfig(c, name);
      return cfg['region-split-size'] === 2 ** 20 && cfg.version === before.version + 1;
    });
  }

  // PD restarts; a store that was down meanwhile restarts too and gets the value.
  await c.pg.kill('store3', 'SIGTERM');
  await c.pg.kill('pd', 'SIGTERM');
  await c.pg.restart('pd');
  const after = await nyx(['pd', 'config', 'show', 'region-split-size', '--pd', c.pd, '--json']);
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(
    (JSON.parse(after.stdout) as { items: { value: string }[] }).items.map((i) => i.value),
    ['1MiB'],
  );
  await c.startStore('store3');
  await eventually('the restarted store to get the value from PD', async () => {
    const cfg = await storeConfig(c, 'store3');
    return cfg['region-split-size'] === 2 ** 20;
  });
  const table = await nyx(['pd', 'config', 'show', '--pd', c.pd]);
  assert.match(table.stdout, /region-split-size\s*│\s*1MiB \*\s*│\s*96MiB/);
});
