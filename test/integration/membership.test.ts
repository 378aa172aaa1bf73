// Membership changes and leader transfers on a real cluster (PD + 3 stores, a 4th joins):
// a peer added under a write load gets its data by snapshot, is promoted and serves every
// acknowledged write once it leads; a removed peer's file goes; a move goes through a
// joint configuration; kill -9 of the new store during its snapshot leaves a cluster that
// agrees with PD after the restart. Every step runs through the `nyx` CLI where one exists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePortRange } from '../../src/common/free_port.js';
import type { PlaygroundProcess } from '../../src/server/playground.js';
import { nyx as runNyx } from '../cli/nyx.js';
import { TestCluster, eventually, writeLoad } from './cluster.js';
import { checkAllReadableOnce } from './split_checks.js';

interface OperatorJson {
  id: number;
  status: string;
  steps: { kind: string }[];
}

describe('membership changes on a real cluster', () => {
  let c: TestCluster;
  let store4Args: string[];
  let store4: PlaygroundProcess;
  let store4Id: number;
  let regionId: number;
  /** The three stores the cluster bootstrapped on. */
  let first: number[];
  const voters = (stores: number[]) => stores.map((s) => `${s}:Voter`).sort();
  const acked = new Map<string, string>();

  const nyx = (...args: string[]) => runNyx([...args, '--pd', c.pd]);
  const region = async () => (await c.pdClient().getRegionById(regionId))!;
  const storesOf = async () =>
    (await region()).region.peers.map((p) => `${p.storeId}:${p.role}`).sort();
  /** Waits for the Region's operator `id` to end; returns its final status. */
  const operatorEnds = (id: number, timeoutMs = 30_000) =>
    eventually(
      `operator ${id} ends`,
      async () => {
        const op = await c.pdClient().getOperator(regionId);
        return op && op.id === id && op.status !== 'running' ? op.status : undefined;
      },
      timeoutMs,
    );
  const addOperator = async (...args: string[]): Promise<OperatorJson> => {
    const r = await nyx('operator', 'add', ...args, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as OperatorJson;
  };
  const regionFile = (storeDir: string) =>
    path.join(c.dir, storeDir, 'regions', `${regionId}.sqlite`);

  before(async () => {
    c = await TestCluster.start({
      regions: 1,
      allowFailpoints: true,
      storeArgs: ['--raft-log-gc-threshold', '50', '--raft-log-gc-interval-ms', '500'],
    });
    // Admin operators alone: PD's own scheduling would undo a 4th replica (the replica
    // checker) or move Regions onto the new store (balance-region). Limits of 0 hold every
    // scheduled operator back, as an operator of PD does to stop scheduling.
    for (const limit of ['leader', 'region', 'replica']) {
      const r = await runNyx(['pd', 'config', 'set', `${limit}-schedule-limit`, '0', '--pd', c.pd]);
      assert.equal(r.code, 0, r.stderr);
    }
    const port = await freePortRange(2);
    // The usual store flags with this store's own ports and directory.
    const base = c.pg.storeArgs(0);
    store4Args = base.map((a) =>
      a.endsWith(path.join(c.dir, 'store1'))
        ? path.join(c.dir, 'store4')
        : a === base[base.indexOf('--addr') + 1]
          ? `127.0.0.1:${port}`
          : a === base[base.indexOf('--status-addr') + 1]
            ? `127.0.0.1:${port + 1}`
            : a,
    );
    store4 = await c.pg.spawnProcess('store4', store4Args);
    store4Id = (await c.status('store4')).store;
    const r0 = (await c.pdClient().scanRegions(Buffer.alloc(0), Buffer.alloc(0)))[0]!.region;
    regionId = r0.id;
    first = r0.peers.map((p) => p.storeId);
  });
  after(async () => {
    if (process.env.KEEP_LOGS)
      fs.cpSync(path.join(c.dir, 'logs'), process.env.KEEP_LOGS, { recursive: true });
    await c.stop();
  });

  test('add-peer under writes: snapshot, promotion; it serves every write once it leads', async () => {
    const load = writeLoad(c.rawClient(), 'add', 8);
    await eventually('writes before the add', async () => load.acked.size > 300);
    const op = await addOperator('add-peer', String(regionId), String(store4Id));
    assert.deepEqual(
      op.steps.map((s) => s.kind),
      ['AddLearner', 'PromoteLearner'],
    );
    assert.equal(await operatorEnds(op.id), 'finished');
    assert.deepEqual(
      await storesOf(),
      ['1:Voter', '2:Voter', '3:Voter', `${store4Id}:Voter`].sort(),
    );
    await eventually('more writes after the promotion', async () => load.acked.size > 600);
    for (const [k, v] of await load.stop()) acked.set(k, v);
    assert.ok(fs.existsSync(regionFile('store4')));
    assert.ok((await c.metric('store4', 'nyx_raft_snapshots_applied_total')) >= 1);

    // Leadership to the new store by the CLI; then every acknowledged write is read from it.
    const t = await nyx(
      'region',
      'transfer-leader',
      String(regionId),
      '--to-store',
      String(store4Id),
      '--json',
      '--timeout',
      '20s',
    );
    assert.equal(t.code, 0, t.stderr);
    assert.equal(
      (JSON.parse(t.stdout) as { leader: { storeId: number } }).leader.storeId,
      store4Id,
    );
    await checkAllReadableOnce(c, acked);
    assert.equal((await region()).leader?.storeId, store4Id);
  });

  test('remove-peer of the leader: leadership moves first, its file goes, no re-creation', async () => {
    const op = await addOperator('remove-peer', String(regionId), String(store4Id));
    assert.deepEqual(
      op.steps.map((s) => s.kind),
      ['TransferLeader', 'RemovePeer'],
    );
    assert.equal(await operatorEnds(op.id), 'finished');
    assert.deepEqual(await storesOf(), voters(first));
    await eventually('the removed replica is destroyed', async () => {
      const st = await c.status('store4');
      return st.regions === 0 && !fs.existsSync(regionFile('store4'));
    });
    // Writes go on; nothing brings the replica back (a tombstone guards it).
    const kv = c.rawClient();
    for (let i = 0; i < 50; i++) await kv.put(Buffer.from(`after-remove-${i}`), Buffer.from('x'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await c.status('store4')).regions, 0);
    await checkAllReadableOnce(c, acked);
  });

  test('move-peer goes through a joint configuration', async () => {
    const leader = (await region()).leader!.storeId;
    const from = first.find((s) => s !== leader)!;
    const op = await addOperator('move-peer', String(regionId), String(from), String(store4Id));
    assert.ok(op.steps.some((s) => s.kind === 'ChangePeersJoint'));
    assert.equal(await operatorEnds(op.id), 'finished');
    assert.deepEqual(await storesOf(), voters([...first, store4Id].filter((s) => s !== from)));
    const fromName = await c.nameOfStore(from);
    await eventually(
      'the moved replica is destroyed',
      async () => !fs.existsSync(regionFile(fromName)),
    );
    await checkAllReadableOnce(c, acked);
  });

  test('kill -9 of the new store during its snapshot: after restart everything agrees with PD', async () => {
    // Give the Region back its replica on the store moved away from, killing that store as
    // it installs the snapshot.
    const peers = (await region()).region.peers.map((p) => p.storeId);
    const back = [...first, store4Id].find((s) => !peers.includes(s))!;
    const name = back === store4Id ? 'store4' : await nameOf(back);
    await c.setFailpoint(name, 'snapshot_install_mid', 'panic');
    const op = await addOperator('add-peer', String(regionId), String(back));
    const proc = c.pg.process(name);
    await eventually(
      'the store dies installing the snapshot',
      async () => proc.child.exitCode !== null || proc.child.signalCode !== null,
    );
    if (name === 'store4') store4 = await c.pg.restart('store4', store4Args);
    else await c.startStore(name);
    assert.equal(await operatorEnds(op.id, 60_000), 'finished');
    await eventually('every store agrees with PD', async () => {
      const r = await region();
      for (const n of c.storeNames()) {
        const st = (await c.status(n)) as unknown as {
          store: number;
          peers: { region: number; epoch: { confVer: number; version: number } }[];
        };
        const mine = st.peers.find((p) => p.region === regionId);
        const member = r.region.peers.some((p) => p.storeId === st.store);
        if (member !== (mine !== undefined)) return false;
        if (mine && mine.epoch.confVer !== r.region.epoch.confVer) return false;
      }
      return true;
    });
    await checkAllReadableOnce(c, acked);
    assert.equal(store4.name, 'store4');
  });

  test('kill -9 as a removed replica is destroyed (tombstone written, file not yet deleted)', async () => {
    await c.setFailpoint('store4', 'peer_destroy_before_delete', 'panic');
    const op = await addOperator('remove-peer', String(regionId), String(store4Id));
    assert.equal(await operatorEnds(op.id), 'finished');
    const proc = c.pg.process('store4');
    await eventually(
      'store 4 dies destroying its replica',
      async () => proc.child.exitCode !== null || proc.child.signalCode !== null,
    );
    assert.ok(fs.existsSync(regionFile('store4')), 'the crash left the file');
    store4 = await c.pg.restart('store4', store4Args);
    // The restart finishes the destroy, and nothing re-creates the replica.
    assert.equal(fs.existsSync(regionFile('store4')), false);
    assert.equal((await c.status('store4')).regions, 0);
    await checkAllReadableOnce(c, acked);
  });

  async function nameOf(storeId: number): Promise<string> {
    // The store may be down (not answering /status): find it by its data dir's ident.
    for (const n of c.storeNames().filter((x) => x !== 'store4')) {
      const ident = JSON.parse(fs.readFileSync(path.join(c.dir, n, 'store.json'), 'utf8')) as {
        storeId: number;
      };
      if (ident.storeId === storeId) return n;
    }
    throw new Error(`no store ${storeId}`);
  }
});
