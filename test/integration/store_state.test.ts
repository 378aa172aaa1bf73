// Store liveness with short settings on a real cluster: a store killed with kill -9 goes
// Up -> Disconnected -> Down in `nyx store list` and PD's metrics, the others stay Up,
// and it is Up again once restarted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nyx } from '../cli/nyx.js';
import { eventually, TestCluster } from './cluster.js';

interface Row {
  id: number;
  state: string;
  heartbeatAgeMs: number | null;
}

async function storeList(pd: string): Promise<Row[]> {
  const r = await nyx(['store', 'list', '--pd', pd, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

async function pdStoresGauge(c: TestCluster, state: string): Promise<number> {
  const text = await (await fetch(`http://${c.pg.process('pd').status}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`nyx_pd_stores{state="${state}"} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

test('a killed store goes Disconnected, then Down; it is Up again after a restart', async (t) => {
  const c = await TestCluster.start({ stores: 3 });
  t.after(() => c.stop());
  // Stores beat every 2 s: 5 s is two missed beats.
  for (const [name, value] of [
    ['store-disconnect-time', '5s'],
    ['max-store-down-time', '12s'],
  ]) {
    const r = await nyx(['pd', 'config', 'set', name!, value!, '--pd', c.pd]);
    assert.equal(r.code, 0, r.stderr);
  }
  const before = await storeList(c.pd);
  assert.deepEqual(
    before.map((r) => r.state),
    ['Up', 'Up', 'Up'],
  );
  assert.ok(before.every((r) => r.heartbeatAgeMs !== null && r.heartbeatAgeMs < 5000));

  const victim = (await c.status('store3')).store;
  const killedAt = Date.now();
  await c.pg.kill('store3');

  const disconnected = await eventually('the store to be Disconnected', async () => {
    const rows = await storeList(c.pd);
    const row = rows.find((r) => r.id === victim)!;
    return row.state === 'Disconnected' ? rows : undefined;
  });
  const sinceKill = Date.now() - killedAt;
  assert.ok(sinceKill >= 3000, `Disconnected only ${sinceKill} ms after the kill`);
  const row = disconnected.find((r) => r.id === victim)!;
  assert.ok(row.heartbeatAgeMs! >= 5000, `age ${row.heartbeatAgeMs}`);
  assert.deepEqual(
    disconnected.filter((r) => r.id !== victim).map((r) => r.state),
    ['Up', 'Up'],
  );
  assert.equal(await pdStoresGauge(c, 'Disconnected'), 1);

  await eventually(
    'the store to be Down',
    async () => (await storeList(c.pd)).find((r) => r.id === victim)?.state === 'Down',
  );
  assert.ok(Date.now() - killedAt >= 10_000);
  assert.equal(await pdStoresGauge(c, 'Down'), 1);
  assert.equal(await pdStoresGauge(c, 'Up'), 2);
  const table = await nyx(['store', 'list', '--pd', c.pd]);
  assert.match(table.stdout, /Down\s*│\s*1\d(\.\d)?s ago/);

  await c.startStore('store3');
  await eventually('the store to be Up again', async () =>
    (await storeList(c.pd)).every((r) => r.state === 'Up'),
  );
  // PD counts changes on its own once-a-second check, which may not have run yet.
  const changes = await eventually('PD to count the store Up again', async () => {
    const text = await (await fetch(`http://${c.pg.process('pd').status}/metrics`)).text();
    return /nyx_pd_store_state_changes_total\{to="Up"\} [1-9]/.test(text) ? text : undefined;
  });
  assert.match(changes, /nyx_pd_store_state_changes_total\{to="Down"\} 1\n/);
  assert.match(changes, /nyx_pd_store_state_changes_total\{to="Up"\} 1\n/);
});
