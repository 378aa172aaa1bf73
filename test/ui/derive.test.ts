import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DISCONNECTED_AFTER_MS,
  DOWN_AFTER_MS,
  diffEvents,
  leaderApplied,
  markHot,
  perMinute,
  regionRows,
  storeState,
} from '../../src/ui/derive.js';
import {
  hex,
  pdView,
  regionRow,
  snapshot,
  storePage,
  storeRow,
  viewRegion,
  viewStore,
} from './fixtures.js';

test('store state: PD says Up, heartbeat age refines it; Offline and Tombstone pass through', () => {
  assert.equal(storeState('Up', 0), 'Up');
  assert.equal(storeState('Up', DISCONNECTED_AFTER_MS - 1), 'Up');
  assert.equal(storeState('Up', DISCONNECTED_AFTER_MS), 'Disconnected');
  assert.equal(storeState('Up', DOWN_AFTER_MS), 'Down');
  assert.equal(storeState('Up', null), 'Disconnected');
  assert.equal(storeState('Offline', 0), 'Offline');
  assert.equal(storeState('Tombstone', DOWN_AFTER_MS), 'Tombstone');
  assert.throws(() => storeState('Sideways', 0), /unknown store state/);
});

test('region rows: peers with roles and lag from the leader, write rate from applied index', () => {
  const view = pdView(
    [viewStore(1), viewStore(2), viewStore(3)],
    [viewRegion(4, '', 'm', [1, 2, 3], 1), viewRegion(8, 'm', '', [1, 2, 3], 2)],
  );
  // Region 4: leader on 1 at 120, store 2 matched 120 but applied 110, store 3 matched 100.
  const idx = (r: number, s: number) =>
    r === 4
      ? { 1: { applied: 120 }, 2: { applied: 110, match: 120 }, 3: { applied: 100, match: 100 } }[
          s
        ]!
      : { applied: 50 };
  const pages = new Map([1, 2].map((s) => [s, storePage(s, view, idx)]));
  // Store 3 did not answer.
  const rows = regionRows(view, pages, new Map([[4, 100]]), 2);
  const r4 = rows.find((r) => r.id === 4)!;
  assert.deepEqual(r4.leader, { peerId: 41, storeId: 1 });
  assert.equal(r4.writesPerSec, 10); // (120 - 100) / 2 s
  const byStore = new Map(r4.peers.map((p) => [p.storeId, p]));
  assert.equal(byStore.get(1)!.raftRole, 'Leader');
  assert.equal(byStore.get(2)!.matchLag, 0);
  assert.equal(byStore.get(2)!.appliedLag, 10);
  assert.equal(byStore.get(3)!.raftRole, null, 'store 3 did not answer');
  assert.equal(byStore.get(3)!.match, 100, "the leader's progress still tells its match");
  assert.equal(byStore.get(3)!.matchLag, 20);
  assert.equal(byStore.get(3)!.appliedLag, null);
  const r8 = rows.find((r) => r.id === 8)!;
  assert.equal(r8.writesPerSec, null, 'no previous applied index: no rate yet');
  assert.deepEqual(
    [...leaderApplied(rows)],
    [
      [4, 120],
      [8, 50],
    ],
  );
});

test('a leader PD names that its store no longer calls leader gives no lag and no rate', () => {
  const view = pdView([viewStore(1), viewStore(2)], [viewRegion(4, '', '', [1, 2], 1)]);
  const page = storePage(1, view, () => ({ applied: 10 }));
  page.peers[0].role = 'Follower';
  const [r] = regionRows(view, new Map([[1, page]]), new Map([[4, 5]]), 1);
  assert.equal(r.writesPerSec, null);
  assert.ok(r.peers.every((p) => p.matchLag === null && p.appliedLag === null));
});

test('hot: at least the floor and twice the mean of busy Regions', () => {
  const rows = [
    regionRow(1, { writesPerSec: 100 }),
    regionRow(2, { writesPerSec: 5 }),
    regionRow(3, { writesPerSec: 5 }),
    regionRow(4, { writesPerSec: 0 }),
  ];
  markHot(rows);
  assert.deepEqual(
    rows.map((r) => r.hot),
    [true, false, false, false],
  );
  const quiet = [regionRow(1, { writesPerSec: 3 }), regionRow(2, { writesPerSec: 0.1 })];
  markHot(quiet);
  assert.ok(
    quiet.every((r) => !r.hot),
    'below the floor nothing is hot',
  );
  const single = [regionRow(1, { writesPerSec: 50 }), regionRow(2, { writesPerSec: null })];
  markHot(single);
  assert.equal(single[0].hot, true);
});

test('events: leader change, conf change, split, merge, store state and reachability, PD', () => {
  const at = 5000;
  const prev = snapshot({
    regions: [
      regionRow(2, { endKey: hex('m') }),
      regionRow(3, { startKey: hex('m'), endKey: hex('t') }),
      regionRow(4, { startKey: hex('t') }),
    ],
  });
  const cur = snapshot({
    stores: [
      storeRow(1),
      storeRow(2, { reachable: false, error: 'ECONNREFUSED' }),
      storeRow(3, { state: 'Disconnected' }),
      storeRow(4),
    ],
    regions: [
      // 2 split at 'f' into 2 and 9; 3 swallowed 4; 2's leader moved; 3 changed members.
      regionRow(2, {
        endKey: hex('f'),
        epoch: { confVer: 1, version: 2 },
        leader: { peerId: 22, storeId: 2 },
      }),
      regionRow(9, { startKey: hex('f'), endKey: hex('m'), epoch: { confVer: 1, version: 2 } }),
      regionRow(3, { startKey: hex('m'), epoch: { confVer: 2, version: 2 } }),
    ],
  });
  cur.regions[2].peers = cur.regions[2].peers.slice(0, 2);
  const ev = diffEvents(prev, cur, at);
  const texts = ev.map((e) => `${e.kind}: ${e.text}`);
  assert.deepEqual(texts, [
    'store: store 2 status port unreachable: ECONNREFUSED',
    'store: store 3 Up -> Disconnected',
    'store: store 4 joined (127.0.0.1:20164)',
    'leader: region 2 leader store 1 -> store 2',
    'split: region 2 split: new region 9 [f, m)',
    'conf-change: region 3 peers on stores [1,2,3] -> [1,2]',
    'merge: region 4 merged into region 3',
  ]);
  assert.ok(ev.every((e) => e.atMs === at));
  assert.equal(perMinute(ev, 'split', at + 59_000), 1);
  assert.equal(perMinute(ev, 'split', at + 60_000), 0);
  assert.deepEqual(diffEvents(undefined, cur, at), [], 'the first snapshot has no past');
});

test('events: PD going away is one event, and no store or Region noise while it is away', () => {
  const up = snapshot();
  const down = snapshot({
    pd: { ...up.pd, reachable: false, error: 'ECONNREFUSED' },
    regions: [],
  });
  assert.deepEqual(
    diffEvents(up, down, 1).map((e) => e.text),
    ['PD unreachable: ECONNREFUSED'],
  );
  assert.deepEqual(
    diffEvents(down, up, 2).map((e) => e.text),
    ['PD is back'],
  );
});
