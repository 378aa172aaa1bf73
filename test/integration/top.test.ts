// `nyx top` on real processes: --once and --json against a running cluster, a store and
// then PD going away; and the live dashboard in a real terminal (tmux: send keys, capture
// the pane), when tmux is installed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ClusterSnapshot } from '../../src/ui/snapshot.js';
import { TestCluster, eventually, writeLoad } from './cluster.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/run.js');

async function top(pd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    // --timeout bounds each scrape; a loaded test machine needs more than the default 800 ms,
    // or a sample misses every store and the frame has no rates.
    [BIN, 'top', '--pd', pd, '--interval', '700', '--width', '160', '--timeout', '5s', ...args],
    { timeout: 30_000 },
  );
  return stdout;
}

const row = (out: string, re: RegExp) => out.split('\n').find((l) => re.test(l));

describe('nyx top --once / --json on a real cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ stores: 3, regions: 4 });
  });
  after(async () => {
    await c.stop();
  });

  test('one frame: header, every store Up with its load, every Region with a leader', async () => {
    // Wait until every Region's leader has reported to PD.
    await eventually('leaders for all Regions', async () => {
      const snap = JSON.parse(await top(c.pd, '--json')) as ClusterSnapshot;
      return snap.regions.length === 4 && snap.regions.every((r) => r.leader) ? snap : undefined;
    });
    const load = writeLoad(c.rawClient(), 'top', 4);
    try {
      await eventually('some acknowledged writes', async () => load.acked.size > 20);
      const out = await top(c.pd, '--once');
      assert.match(out, /^nyx top {2}PD 127\.0\.0\.1:\d+ {2}cluster \d+ {2}up \d+/m);
      assert.match(out, /stores 3 up \/ 0 disconnected \/ 0 down/);
      assert.match(out, /regions 4 {2}no leader 0 {2}under-replicated 0/);
      assert.match(out, /^stores \(3\)$/m);
      assert.match(out, /^regions \(4\)$/m);
      for (const name of c.storeNames()) {
        const line = row(out, new RegExp(` ${c.pg.process(name).grpc.replace(/\./g, '\\.')} `));
        assert.ok(line, `a row for ${name}:\n${out}`);
        assert.match(line, / Up +\d+s +4 +\d /, line);
      }
      // Writes went on during both samples, so the cluster write rate and p99 are known.
      const rates = /writes (\S+)\/s {2}p99 (\S+)/.exec(out)!;
      assert.ok(Number.parseFloat(rates[1]) > 0, `writes/s ${rates[1]}`);
      assert.notEqual(rates[2], '-');
      assert.equal(out.split('\n').filter((l) => / s\d +s\d,s\d,s\d /.test(l)).length, 4);
    } finally {
      await load.stop();
    }
  });

  test('--json: one snapshot with stores, Regions and totals', async () => {
    const snap = JSON.parse(await top(c.pd, '--json')) as ClusterSnapshot;
    assert.equal(snap.pd.reachable, true);
    assert.equal(snap.stores.length, 3);
    assert.ok(snap.stores.every((s) => s.reachable && s.state === 'Up' && s.regions === 4));
    assert.equal(snap.regions.length, 4);
    assert.equal(snap.totals.regions, 4);
    const leaders = snap.stores.reduce((a, s) => a + s.leaders, 0);
    assert.equal(leaders, 4, 'each Region has exactly one leader among the stores');
    for (const r of snap.regions) {
      const leader = r.peers.find((p) => p.id === r.leader?.peerId);
      assert.equal(leader?.raftRole, 'Leader', `region ${r.id}`);
      assert.ok(
        r.peers.every((p) => p.matchLag !== null),
        'the leader reports match for every peer',
      );
    }
  });

  test('a store that goes away is shown unreachable; the frame still renders', async () => {
    const victim = c.storeNames()[2];
    const addr = c.pg.process(victim).grpc;
    await c.pg.kill(victim);
    const out = await top(c.pd, '--once');
    const line = row(out, new RegExp(` ${addr.replace(/\./g, '\\.')} `));
    assert.match(line ?? '', / Unreachable /, out);
    assert.match(out, /^regions \(4\)$/m);
    const snap = JSON.parse(await top(c.pd, '--json')) as ClusterSnapshot;
    const gone = snap.stores.find((s) => s.address === addr)!;
    assert.equal(gone.reachable, false);
    assert.ok(gone.error);
  });

  test('PD going away: --once says so and exits cleanly', async () => {
    await c.pg.kill('pd');
    const out = await top(c.pd, '--once');
    assert.match(out, /^nyx top {2}PD 127\.0\.0\.1:\d+ {2}UNREACHABLE/m);
    const snap = JSON.parse(await top(c.pd, '--json')) as ClusterSnapshot;
    assert.equal(snap.pd.reachable, false);
  });
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe(
  'nyx top in a real terminal (tmux)',
  { skip: !hasTmux() && 'tmux is not installed' },
  () => {
    // A private tmux server, so the test touches no one else's sessions.
    const socket = `nyx-top-test-${process.pid}`;
    const tmux = (...args: string[]) =>
      execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const pane = () => tmux('capture-pane', '-p', '-t', 'top');
    // The pane stays after the dashboard exits (remain-on-exit), so an early exit is
    // reported with what it printed (and the status tmux writes, "Pane is dead (status
    // N, ...)", when it shows) instead of "no server running".
    const dead = () => tmux('display-message', '-p', '-t', 'top', '#{pane_dead}').trim() === '1';
    const exitStatus = (screen: string) =>
      /Pane is dead \((status \d+|signal \d+)/.exec(screen)?.[1];
    let c: TestCluster;
    before(async () => {
      c = await TestCluster.start({ stores: 3, regions: 4 });
    });
    after(async () => {
      try {
        tmux('kill-server');
      } catch {
        // Already gone: the dashboard quit and the session ended.
      }
      await c.stop();
    });

    test('the live dashboard draws, switches views by keys, follows resizes, shows a dead store, quits', async () => {
      // --timeout 1s: the dashboard must outlive it by far (it bounds calls, not the session).
      const cmd = `${process.execPath} ${BIN} top --pd ${c.pd} --interval 500 --timeout 1s`;
      tmux('new-session', '-d', '-s', 'top', '-x', '150', '-y', '35', 'sleep 600');
      tmux('set-option', '-t', 'top', 'remain-on-exit', 'on');
      tmux('respawn-pane', '-k', '-t', 'top', cmd);
      const see = (what: string, re: RegExp) =>
        eventually(
          what,
          async () => {
            const screen = pane();
            if (re.test(screen)) return screen;
            if (dead()) {
              assert.fail(`nyx top exited (${exitStatus(screen)}) waiting for ${what}:\n${screen}`);
            }
            return undefined;
          },
          20_000,
        );

      let screen = await see('the stores view', /stores 3 up \/ 0 disconnected/);
      assert.match(screen, /1 stores {2}2 regions {2}3 events/);
      assert.ok(screen.trimEnd().split('\n').length <= 35);

      tmux('send-keys', '-t', 'top', '2');
      screen = await see('the regions view', /regions \(4, by writes\)/);
      // PD learns each Region's leader from its heartbeats: wait until all four show one.
      const withLeader = (text: string) =>
        text.split('\n').filter((l) => / s\d +s\d,s\d,s\d /.test(l)).length;
      await eventually(
        'every Region row with its leader',
        async () => withLeader(pane()) === 4,
        20_000,
      );

      tmux('send-keys', '-t', 'top', 's');
      await see('the sort changed', /regions \(4, by reads\)/);

      tmux('send-keys', '-t', 'top', 'Enter');
      screen = await see('the Region detail', /epoch conf_ver \d+ version \d+/);
      assert.match(screen, /PEER +STORE +ROLE +RAFT/);
      // PD's balance-leader may be moving this Region's leader right now (a transfer is a
      // new term with a short election): the row shows a leader once one is elected.
      await see('a leader row in the Region detail', /Voter +Leader /);

      tmux('send-keys', '-t', 'top', 'Escape');
      await see('back to regions', /regions \(4, by reads\)/);
      tmux('send-keys', '-t', 'top', '1');
      await see('the stores view again', /\[stores {2}row 1\/3\]/);

      tmux('resize-window', '-t', 'top', '-x', '100', '-y', '25');
      screen = await see('a narrower frame', /WRITE\/S +P99\s*$/m);
      assert.ok(
        screen.split('\n').every((l) => l.trimEnd().length <= 100),
        'no line wider than the terminal',
      );

      const victim = c.storeNames()[1];
      await c.pg.kill(victim);
      await see('the dead store', / Unreachable /);
      tmux('send-keys', '-t', 'top', '3');
      await see('its event', /status port unreachable/);

      tmux('send-keys', '-t', 'top', 'q');
      await eventually('the dashboard to quit', async () => dead(), 10_000);
    });
  },
);
