// `nyx scheduler …`, `nyx store remove` and `nyx region explain` against a real `nyx pd
// start` process. The stores are PD clients that register, heartbeat and report their
// Regions (what a store says to PD); no store process is needed to see PD decide.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PdClient } from '../../src/client/pd_client.js';
import { freePortRange } from '../../src/common/free_port.js';
import { lines, nyx, startServer, type Server } from './nyx.js';

async function startPd(t: TestContext, dir: string, port: number): Promise<Server> {
  return startServer(t, [
    'pd',
    'start',
    '--addr',
    `127.0.0.1:${port}`,
    '--status-addr',
    `127.0.0.1:${port + 1}`,
    '--data-dir',
    dir,
    '--initial-stores',
    '3',
  ]);
}

async function run(args: string[], pd: string): Promise<string> {
  const r = await nyx([...args, '--pd', pd]);
  assert.equal(r.code, 0, `nyx ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

test('scheduler list/add/remove/pause/resume, persisted across a PD restart; store remove; region explain', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-sched-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePortRange(2);
  const pdAddr = `127.0.0.1:${port}`;
  let pdProc = await startPd(t, dir, port);

  // Four stores register and heartbeat; bootstrap puts the one Region on stores 1..3.
  const clients = [1, 2, 3, 4].map((id) => PdClient.connect(pdAddr, { senderId: id }));
  t.after(() => clients.forEach((c) => c.close()));
  for (const [i, c] of clients.entries()) {
    await c.putStore({ id: i + 1, address: `127.0.0.1:${40000 + i}` });
    await c.storeHeartbeat({ storeId: i + 1 });
  }
  // They keep heartbeating as real stores do, so that none turns Disconnected however slow
  // the machine makes this test (a removed store's heartbeats are refused; that is checked
  // below, and ignored here).
  const beating = setInterval(() => {
    for (const [i, c] of clients.entries()) c.storeHeartbeat({ storeId: i + 1 }).catch(() => {});
  }, 1_000);
  t.after(() => clearInterval(beating));
  const [info] = await clients[0]!.scanRegions(Buffer.alloc(0), Buffer.alloc(0));
  const region = info!.region;
  clients[0]!.regionHeartbeat({ region, leader: region.peers[0]!, term: 1 });
  await new Promise((r) => setTimeout(r, 300));

  // --- schedulers ---
  const list = JSON.parse(await run(['scheduler', 'list', '--json'], pdAddr)) as {
    name: string;
    state: string;
  }[];
  assert.deepEqual(
    list.map((s) => [s.name, s.state]),
    [
      ['balance-leader', 'running'],
      ['balance-region', 'running'],
      ['hot-region', 'running'],
    ],
  );
  assert.equal(
    (await run(['scheduler', 'remove', 'balance-region'], pdAddr)).trim(),
    'balance-region: removed',
  );
  assert.match(
    (await run(['scheduler', 'pause', 'balance-leader', '1h'], pdAddr)).trim(),
    /^balance-leader: paused for 1h more \(until \d{4}-.*Z\)$/,
  );
  const bad = await nyx(['scheduler', 'add', 'balance-leaders', '--pd', pdAddr]);
  assert.equal(bad.code, 1);
  assert.deepEqual(lines(bad.stderr), [
    'Error: unknown scheduler "balance-leaders" (known: balance-leader, balance-region, hot-region) (InvalidArgument)',
  ]);
  const badPause = await nyx(['scheduler', 'pause', 'balance-leader', '10', '--pd', pdAddr]);
  assert.equal(badPause.code, 1);
  assert.match(badPause.stderr, /^Error: not a duration: "10"/);

  // A PD restart keeps the set.
  pdProc.child.kill('SIGTERM');
  assert.equal(await pdProc.exited, 0);
  pdProc = await startPd(t, dir, port);
  const after = JSON.parse(await run(['scheduler', 'list', '--json'], pdAddr)) as {
    name: string;
    state: string;
    pausedUntil: string | null;
  }[];
  assert.deepEqual(
    after.map((s) => [s.name, s.state]),
    [
      ['balance-leader', 'paused'],
      ['balance-region', 'removed'],
      ['hot-region', 'running'],
    ],
  );
  assert.ok(after[0]!.pausedUntil);
  const table = await run(['scheduler', 'list'], pdAddr);
  assert.match(table, /balance-region\s*│\s*removed/);
  await run(['scheduler', 'resume', 'balance-leader'], pdAddr);
  await run(['scheduler', 'add', 'balance-region'], pdAddr);

  // The restarted PD knows no leaders until the stores report again.
  for (const [i, c] of clients.entries()) await c.storeHeartbeat({ storeId: i + 1 });
  clients[0]!.regionHeartbeat({ region, leader: region.peers[0]!, term: 1 });
  await new Promise((r) => setTimeout(r, 300));

  // --- explain ---
  const text = await run(['region', 'explain', String(region.id)], pdAddr);
  const out = lines(text);
  assert.match(
    out[0]!,
    new RegExp(`^Region ${region.id} \\[-inf, \\+inf\\), conf_ver 1, version 1$`),
  );
  assert.ok(out.includes('replica-checker: nothing to do'), text);
  assert.ok(out.includes('  3/3 voters, all on Up stores — nothing to do'), text);
  assert.ok(out.includes('balance-leader: nothing to do'), text);
  assert.ok(
    out.includes(
      '  store 1 has 1 leader, store 2 has 0, mean 0.3, tolerance 1: moving one would not make them more even — nothing to do',
    ),
    text,
  );
  assert.ok(out.includes('balance-region: nothing to do'), text);
  assert.ok(out.includes('hot-region: nothing to do'), text);
  assert.ok(
    out.includes(
      '  not hot for reads (no read load reported; threshold 3000 keys/s); not hot for writes (no write load reported; threshold 1MiB/s)',
    ),
    text,
  );
  assert.ok(
    out.some((l) => l.startsWith('merge-checker: ')),
    text,
  );
  const json = JSON.parse(
    await run(['region', 'explain', String(region.id), '--json'], pdAddr),
  ) as {
    executing: boolean;
    verdicts: { source: string; outcome: string; summary: string }[];
  };
  assert.equal(json.executing, true);
  assert.deepEqual(
    json.verdicts.map((v) => v.source),
    ['replica-checker', 'balance-leader', 'balance-region', 'hot-region', 'merge-checker'],
  );
  const missing = await nyx(['region', 'explain', '999', '--pd', pdAddr]);
  assert.equal(missing.code, 1);
  assert.deepEqual(lines(missing.stderr), ['Error: region 999 not found (RegionNotFound)']);

  // --- store remove ---
  // Store 4 holds nothing: a Tombstone at once; its heartbeats are then refused.
  assert.equal(
    (await run(['store', 'remove', '4'], pdAddr)).trim(),
    'store 4 held no replica: it is now a Tombstone',
  );
  await assert.rejects(
    clients[3]!.storeHeartbeat({ storeId: 4 }),
    /store 4 was removed \(Tombstone\): its id is never reused/,
  );
  // Three Up stores are left, max-replicas is 3: removing one more is refused.
  const refused = await nyx(['store', 'remove', '3', '--pd', pdAddr]);
  assert.equal(refused.code, 1);
  assert.deepEqual(lines(refused.stderr), [
    'Error: removing store 3 would leave 2 Up store(s) (1, 2), fewer than max-replicas 3: ' +
      'its replicas would have nowhere to go; add a store first (NotEnoughStores)',
  ]);
  const stores = JSON.parse(await run(['store', 'list', '--json'], pdAddr)) as {
    id: number;
    state: string;
  }[];
  assert.deepEqual(
    stores.map((s) => [s.id, s.state]),
    [
      [1, 'Up'],
      [2, 'Up'],
      [3, 'Up'],
      [4, 'Tombstone'],
    ],
  );
  // The new settings are shown (and persisted) like every other.
  const config = await run(['pd', 'config', 'show'], pdAddr);
  assert.match(config, /schedule-interval\s*│[^\n]*1s/);
});
