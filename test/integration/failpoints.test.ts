// Failpoints on real processes: a crash window armed by flag and at run time, the status
// port's guard, and network partitions made with transport drops instead of a firewall.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { FAILPOINT_PANIC_EXIT_CODE } from '../../src/common/failpoint.js';
import { TestCluster, eventually, writeLoad } from './cluster.js';

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function verifyAll(c: TestCluster, acked: Map<string, string>): Promise<void> {
  const client = c.rawClient();
  const keys = [...acked.keys()];
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200);
    const got = await client.batchGet(chunk);
    for (const k of chunk)
      assert.equal(got.get(k)?.toString(), acked.get(k), `acknowledged write ${k} lost`);
  }
}

/** The panic line a failpoint writes to stderr (the playground keeps it in the log file). */
function panicLine(logFile: string, failpoint: string): string | undefined {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"failpoint":"${failpoint}"`) && l.includes('failpoint panic'));
}

describe('a single store with a crash window armed by flag', () => {
  let c: TestCluster;
  before(async () => {
    // One store holds the only replica: what it acknowledged must be in its own log.
    c = await TestCluster.start({ stores: 1, regions: 2 });
  });
  after(async () => {
    await c.stop();
  });

  test('status ports refuse run-time failpoint changes without --allow-failpoints', async () => {
    for (const name of ['store1', 'pd']) {
      const base = `http://${c.pg.process(name).status}/failpoints`;
      assert.equal((await fetch(base)).status, 403, `GET on ${name}`);
      const put = await fetch(`${base}/apply_before`, { method: 'PUT', body: 'panic' });
      assert.equal(put.status, 403, `PUT on ${name}`);
      const del = await fetch(`${base}/apply_before`, { method: 'DELETE' });
      assert.equal(del.status, 403, `DELETE on ${name}`);
    }
    assert.equal((await c.status('store1')).ready, true, 'still serving');
  });

  test('--failpoints raft_log_after_write=1*panic: dies at its first log write; restarted without, every acknowledged write is there', async () => {
    const load = writeLoad(c.rawClient(), 'flag', 4);
    await eventually('writes', async () => load.acked.size > 100);
    await c.pg.kill('store1');
    const ackedBefore = load.acked.size;

    // A restarted lone voter campaigns, and persists its new term before anything else.
    const crashed = await c.startStore('store1', ['--failpoints', 'raft_log_after_write=1*panic']);
    assert.equal(await exitCode(crashed.child), FAILPOINT_PANIC_EXIT_CODE);
    assert.ok(panicLine(crashed.logFile, 'raft_log_after_write'), 'the panic is logged');
    assert.equal(load.acked.size, ackedBefore, 'nothing was acknowledged by the crashed run');

    await c.startStore('store1');
    await eventually('writes after the restart', async () => load.acked.size > ackedBefore + 100);
    const acked = await load.stop();
    await verifyAll(c, acked);
  });
});

describe('run-time failpoints on a cluster started with --allow-failpoints', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ stores: 1, regions: 2, allowFailpoints: true });
  });
  after(async () => {
    await c.stop();
  });

  test('PUT raft_log_after_write=1*panic during writes crashes the store in that window; nothing acknowledged is lost', async () => {
    const load = writeLoad(c.rawClient(), 'rt', 8);
    await eventually('writes', async () => load.acked.size > 100);
    const store = c.pg.process('store1');
    await c.setFailpoint('store1', 'raft_log_after_write', '1*panic');
    assert.equal(await exitCode(store.child), FAILPOINT_PANIC_EXIT_CODE);
    assert.ok(panicLine(store.logFile, 'raft_log_after_write'));
    const ackedAtCrash = load.acked.size;

    await c.startStore('store1');
    await eventually('writes after the restart', async () => load.acked.size > ackedAtCrash + 100);
    const acked = await load.stop();
    await verifyAll(c, acked);
  });

  test('GET lists, DELETE removes; PD takes failpoints too (tso_window_persist)', async () => {
    const pdStatus = `http://${c.pg.process('pd').status}`;
    const pd = c.pdClient();
    await pd.getTimestamp();
    await c.setFailpoint('pd', 'tso_window_persist', 'return(disk full)');
    const list = (await (await fetch(`${pdStatus}/failpoints`)).json()) as { name: string }[];
    assert.deepEqual(
      list.map((f) => f.name),
      ['tso_window_persist'],
    );
    // The window is extended about once a second; from then on no timestamp is served.
    await eventually('TSO to fail', async () => {
      try {
        await pd.getTimestamp();
        return false;
      } catch {
        return true;
      }
    });
    await c.removeFailpoint('pd', 'tso_window_persist');
    await eventually('TSO to serve again', async () => (await pd.getTimestamp()) > 0n);
    const empty = (await (await fetch(`${pdStatus}/failpoints`)).json()) as unknown[];
    assert.deepEqual(empty, []);
  });
});

describe('partitions through transport drops', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ stores: 3, regions: 1, allowFailpoints: true });
  });
  after(async () => {
    await c.stop();
  });

  /** The Region's leader as the stores see it: [process name, store id, term]. */
  async function leader(): Promise<[string, number, number] | undefined> {
    for (const name of c.storeNames()) {
      const s = await c.status(name);
      const p = s.peers[0];
      if (p?.role === 'Leader') return [name, s.store, p.term];
    }
    return undefined;
  }

  async function storeIds(): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (const name of c.storeNames()) ids.set(name, (await c.status(name)).store);
    return ids;
  }

  /**
   * Every store has applied everything any store had committed when this was called. A
   * fixed target: the writes go on meanwhile, and a follower applies in batches (up to
   * 20 ms behind the commit), so "applied = the latest commit" at one poll is luck.
   */
  async function converged(): Promise<() => Promise<boolean>> {
    const at = await Promise.all(c.storeNames().map((n) => c.status(n)));
    const target = Math.max(...at.map((s) => s.peers[0]?.commit ?? 0));
    return async () => {
      const statuses = await Promise.all(c.storeNames().map((n) => c.status(n)));
      return statuses.every((s) => (s.peers[0]?.applied ?? 0) >= target);
    };
  }

  test('a one-way partition (the leader cannot send) and a full one each elect a leader elsewhere; healing restores', async (t) => {
    const ids = await storeIds();
    const load = writeLoad(c.rawClient(), 'part', 4);
    // A load left running keeps this test file's process alive after a failure.
    t.after(() => load.stop().then(() => undefined));
    const [oldName, oldId, oldTerm] = await eventually('a leader', leader);
    const others = [...ids.values()].filter((id) => id !== oldId);

    // One way: the leader hears everyone but nobody hears it.
    await c.dropMessages(oldName, others);
    const [newName, newId, newTerm] = await eventually(
      'a new leader elsewhere',
      async () => {
        const l = await leader();
        return l && l[0] !== oldName && l[2] > oldTerm ? l : undefined;
      },
      30_000,
    );
    assert.notEqual(newId, oldId);
    assert.ok(newTerm > oldTerm);
    // The new leader's messages reach the old one, whose higher term makes it step down.
    await eventually('the old leader to step down', async () => {
      const s = await c.status(oldName);
      return s.peers[0]?.role !== 'Leader';
    });
    let mark = load.acked.size;
    await eventually('writes through the new leader', async () => load.acked.size > mark + 50);
    await c.dropMessages(oldName, others, true);
    await eventually('every store to catch up after healing', await converged(), 30_000);

    // Full partition of the new leader: both directions cut.
    const rest = [...ids.entries()].filter(([, id]) => id !== newId);
    await c.dropMessages(
      newName,
      rest.map(([, id]) => id),
    );
    for (const [name] of rest) await c.dropMessages(name, [newId]);
    await eventually(
      'a leader on the majority side',
      async () => {
        const l = await leader();
        return l && l[0] !== newName && l[2] > newTerm ? l : undefined;
      },
      30_000,
    );
    // With check-quorum, the isolated leader gives up by itself.
    await eventually('the isolated leader to step down', async () => {
      const s = await c.status(newName);
      return s.peers[0]?.role !== 'Leader';
    });
    mark = load.acked.size;
    await eventually('writes on the majority side', async () => load.acked.size > mark + 50);
    await c.dropMessages(
      newName,
      rest.map(([, id]) => id),
      true,
    );
    for (const [name] of rest) await c.dropMessages(name, [newId], true);
    await eventually('every store to catch up after healing', await converged(), 30_000);

    const acked = await load.stop();
    await verifyAll(c, acked);
    const list = (await (
      await fetch(`http://${c.pg.process(oldName).status}/failpoints`)
    ).json()) as unknown[];
    assert.deepEqual(list, [], 'healed: no failpoint left');
  });
});

describe('crash windows of a snapshot', () => {
  let c: TestCluster;
  before(async () => {
    // Leaders compact aggressively, so a store that was down needs a snapshot.
    c = await TestCluster.start({
      regions: 1,
      storeArgs: ['--raft-log-gc-threshold', '20', '--raft-log-gc-interval-ms', '200'],
    });
  });
  after(async () => {
    await c.stop();
  });

  async function caughtUp(victimId: number): Promise<boolean> {
    const statuses = await Promise.all(c.storeNames().map((n) => c.status(n)));
    const mine = statuses.find((s) => s.store === victimId)!;
    return mine.peers.every((p) =>
      statuses.every((s) => (s.peers.find((q) => q.region === p.region)?.commit ?? 0) <= p.applied),
    );
  }

  test('a refused snapshot stream is retried; a crash between install and log write is recovered on restart', async () => {
    const client = c.rawClient();
    const victim = c.storeNames()[2]!;
    const victimId = (await c.status(victim)).store;

    // 1. The first snapshot stream breaks mid-receive: the leader must send another.
    await c.pg.kill(victim);
    let load = writeLoad(client, 'snapa', 4);
    await eventually('writes while the store is down', async () => load.acked.size > 300, 30_000);
    const acked = await load.stop();
    await new Promise((r) => setTimeout(r, 600)); // a GC round on the leaders
    await c.startStore(victim, ['--failpoints', 'snapshot_receive_mid=1*return(torn)']);
    await eventually(
      'a snapshot to be applied after the refused one',
      async () => (await c.metric(victim, 'nyx_raft_snapshots_applied_total')) > 0,
      30_000,
    );
    // The sender logs the refused stream (the receiver answers it with the error).
    const logs = c.storeNames().map((n) => fs.readFileSync(c.pg.process(n).logFile, 'utf8'));
    assert.ok(
      logs.some((l) => /snapshot_receive_mid: injected error \(torn\)/.test(l)),
      'a refused snapshot stream',
    );
    await eventually('the store to apply everything', () => caughtUp(victimId), 30_000);

    // 2. Crash after the snapshot's data is in the Region engine, before the log knows.
    await c.pg.kill(victim);
    load = writeLoad(client, 'snapb', 4);
    await eventually('more writes while down', async () => load.acked.size > 300, 30_000);
    const more = await load.stop();
    await new Promise((r) => setTimeout(r, 600));
    const crashed = await c.startStore(victim, ['--failpoints', 'snapshot_install_mid=1*panic']);
    assert.equal(await exitCode(crashed.child), FAILPOINT_PANIC_EXIT_CODE);
    await c.startStore(victim);
    await eventually(
      'the store to apply everything after the crash',
      () => caughtUp(victimId),
      30_000,
    );
    for (const [k, v] of more) acked.set(k, v);
    await verifyAll(c, acked);
  });
});
