// Region heartbeats from hostile or buggy callers (NyxDB issue 7, findings 5 and 6): every
// forged report is refused with a typed error, changes nothing in memory or on disk, and
// real reports keep working afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isPdError, PdErrorCode } from '../../src/pd/errors.js';
import type { RegionHeartbeat, RegionInfo } from '../../src/pd/cluster.js';
import type { PlacementDriver } from '../../src/pd/placement_driver.js';
import {
  EPOCH_STEP_BASE,
  LEADER_TERM_TTL_MS,
  MAX_EPOCH_COMPONENT,
  MAX_REGION_KEY_BYTES,
  MAX_REGION_PEERS,
  MAX_TERM,
} from '../../src/pd/trust_limits.js';
import { cloneRegion, PeerRole, type Peer, type Region } from '../../src/region/meta.js';
import { key, ManualClock, openPd, tempDir } from './helpers.js';

interface Setup {
  pd: PlacementDriver;
  left: Region;
  right: Region;
  dir: string;
  clock: ManualClock;
}

/**
 * A bootstrapped cluster: stores 1-3 host left (-inf, m) and right [m, +inf); store 4 is
 * registered but hosts nothing. Both Regions have reported a leader on store 1, term 5.
 */
function setup(t: TestContext, dir = tempDir(t), clock = new ManualClock(1_000_000)): Setup {
  const pd = openPd(t, dir, { initialStores: 3, now: clock.now });
  for (const id of [1, 2, 3, 4]) pd.cluster.putStore({ id, address: `h:${id}` });
  const [left, right] = pd.cluster.bootstrap({ splitKeys: [key('m')] }, [1, 2, 3]);
  for (const r of [left!, right!]) {
    pd.cluster.regionHeartbeat({ region: r, leader: r.peers[0]!, term: 5 });
  }
  return { pd, left: left!, right: right!, dir, clock };
}

function withEpoch(r: Region, version: number, confVer = r.epoch.confVer): Region {
  return { ...cloneRegion(r), epoch: { version, confVer } };
}

/** Everything a client could observe of the map: regions, epochs, peers and leaders. */
function snapshot(pd: PlacementDriver): RegionInfo[] {
  return pd.cluster.scanRegions(key(''), key(''));
}

function refused(pd: PlacementDriver, hb: RegionHeartbeat, code: PdErrorCode): void {
  const before = snapshot(pd);
  assert.throws(
    () => pd.cluster.regionHeartbeat(hb),
    (e) => isPdError(e, code),
    `expected ${code}`,
  );
  assert.deepEqual(snapshot(pd), before, 'a refused heartbeat changes nothing');
}

test('finding 5: a term-less, all-keys heartbeat with version 2^53-1 is refused and leaves no trace', (t) => {
  const { pd, left, right, dir, clock } = setup(t);
  const before = snapshot(pd);
  const forged: Region = {
    id: pd.cluster.allocId(),
    startKey: key(''),
    endKey: key(''),
    epoch: { confVer: 1, version: Number.MAX_SAFE_INTEGER },
    peers: [{ id: pd.cluster.allocId(), storeId: 1, role: PeerRole.Voter }],
  };
  const leader = forged.peers[0]!;
  // Exactly the report of the finding: no term at all.
  refused(pd, { region: forged, leader }, PdErrorCode.InvalidArgument);
  refused(pd, { region: forged, leader, term: 0 }, PdErrorCode.InvalidArgument);
  // With a term, the version is beyond any real cluster.
  refused(pd, { region: forged, leader, term: 6 }, PdErrorCode.InvalidArgument);
  // Within the absolute ceiling, but far beyond what the leader could have reached.
  const far = withEpoch(forged, 1 + EPOCH_STEP_BASE + 1);
  refused(pd, { region: far, leader, term: 6 }, PdErrorCode.RegionInconsistent);
  // Real heartbeats carry on.
  const v2 = withEpoch(left, 2, 1);
  v2.endKey = key('g');
  assert.equal(
    pd.cluster.regionHeartbeat({ region: v2, leader: left.peers[0]!, term: 5 }).changed,
    true,
  );
  assert.deepEqual(pd.cluster.getRegion(key('x'))?.region, right);
  pd.close();

  // Nothing of the forged reports was persisted; the real change was.
  const again = openPd(t, dir, { initialStores: 3, now: clock.now });
  const map = snapshot(again).map((i) => i.region);
  assert.deepEqual(map, [v2, right]);
  assert.equal(before.length, 2);
});

test('the epoch may move ahead by a bounded step, and by more once PD has not heard for a while', (t) => {
  const { pd, left, clock } = setup(t);
  const leader = left.peers[0]!;
  const jump = EPOCH_STEP_BASE + 30; // e.g. many conf changes while PD was not listening
  const far = withEpoch(left, 1, 1 + jump);
  far.peers = [...left.peers];
  refused(pd, { region: far, leader, term: 5 }, PdErrorCode.RegionInconsistent);
  clock.advance(20_000); // 20 s of silence: the allowance grows by 20
  refused(pd, { region: far, leader, term: 5 }, PdErrorCode.RegionInconsistent);
  clock.advance(10_000); // 30 s: enough
  assert.equal(pd.cluster.regionHeartbeat({ region: far, leader, term: 5 }).changed, true);
  assert.equal(pd.cluster.getRegionById(left.id)?.region.epoch.confVer, 1 + jump);
});

test('finding 6: invented peers at an unchanged conf_ver are refused', (t) => {
  const { pd, left } = setup(t);
  const invented = cloneRegion(left);
  invented.peers.push({ id: pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter });
  refused(
    pd,
    { region: invented, leader: left.peers[0]!, term: 5 },
    PdErrorCode.RegionInconsistent,
  );
  // A swapped peer (same count) or a changed role is a membership change too.
  const swapped = cloneRegion(left);
  swapped.peers[2] = { id: pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter };
  refused(pd, { region: swapped, leader: left.peers[0]!, term: 5 }, PdErrorCode.RegionInconsistent);
  const demoted = cloneRegion(left);
  demoted.peers[2] = { ...demoted.peers[2]!, role: PeerRole.Learner };
  refused(pd, { region: demoted, leader: left.peers[0]!, term: 5 }, PdErrorCode.RegionInconsistent);
  // With conf_ver + 1 the same change is a real conf change and is accepted.
  const real = withEpoch(invented, 1, 2);
  assert.equal(
    pd.cluster.regionHeartbeat({ region: real, leader: left.peers[0]!, term: 5 }).changed,
    true,
  );
  assert.deepEqual(pd.cluster.getStoreCounts(4), { regionCount: 1, leaderCount: 0 });
});

test('a changed key range at an unchanged version is refused', (t) => {
  const { pd, left } = setup(t);
  const shrunk = cloneRegion(left);
  shrunk.endKey = key('g');
  refused(pd, { region: shrunk, leader: left.peers[0]!, term: 5 }, PdErrorCode.RegionInconsistent);
});

test('finding 6: a huge term is refused; a forged high term stops gating once its leader goes quiet', (t) => {
  const { pd, left, clock } = setup(t);
  for (const term of [Number.MAX_SAFE_INTEGER, MAX_TERM + 1, 1.5, -1]) {
    refused(pd, { region: left, leader: left.peers[1]!, term }, PdErrorCode.InvalidArgument);
  }
  // The highest term a real cluster could reach is recorded...
  pd.cluster.regionHeartbeat({ region: left, leader: left.peers[1]!, term: MAX_TERM });
  // ...and the real leader's report (term 6) is refused while that "leader" keeps talking...
  refused(pd, { region: left, leader: left.peers[0]!, term: 6 }, PdErrorCode.StaleRegion);
  clock.advance(LEADER_TERM_TTL_MS - 1);
  refused(pd, { region: left, leader: left.peers[0]!, term: 6 }, PdErrorCode.StaleRegion);
  // ...but not once it has been silent for LEADER_TERM_TTL_MS: real reports repair it.
  clock.advance(1);
  pd.cluster.regionHeartbeat({ region: left, leader: left.peers[0]!, term: 6 });
  assert.deepEqual(pd.cluster.getRegionById(left.id)?.leader, left.peers[0]);
});

test('a Region may replace only overlapping Regions its leader’s store hosts, at a higher version', (t) => {
  const { pd, left } = setup(t);
  // A "split child" on store 4, which hosts no peer of left.
  const child: Region = {
    id: pd.cluster.allocId(),
    startKey: key(''),
    endKey: key('g'),
    epoch: { confVer: 1, version: 2 },
    peers: [{ id: pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter }],
  };
  refused(pd, { region: child, leader: child.peers[0]!, term: 1 }, PdErrorCode.RegionInconsistent);
  // Overlapping at the same version: PD cannot tell which one is current.
  const sameVersion: Region = {
    ...child,
    epoch: { confVer: 1, version: 1 },
    peers: left.peers.map((p) => ({ ...p, id: pd.cluster.allocId() })),
  };
  refused(
    pd,
    { region: sameVersion, leader: sameVersion.peers[0]!, term: 1 },
    PdErrorCode.StaleRegion,
  );
  // A real split child: the parent's stores, a higher version.
  const real = withEpoch(sameVersion, 2);
  assert.deepEqual(pd.cluster.regionHeartbeat({ region: real, leader: real.peers[0]!, term: 1 }), {
    changed: true,
    replaced: [left.id],
  });
});

test('the caller’s identity must be the store of the reported leader', (t) => {
  const { pd, left } = setup(t);
  const hb = { region: left, leader: left.peers[1]!, term: 6 };
  const before = snapshot(pd);
  assert.throws(
    () => pd.cluster.regionHeartbeat(hb, { storeId: 1 }),
    (e) => isPdError(e, PdErrorCode.PermissionDenied),
  );
  assert.deepEqual(snapshot(pd), before);
  pd.cluster.regionHeartbeat(hb, { storeId: left.peers[1]!.storeId });
  assert.deepEqual(pd.cluster.getRegionById(left.id)?.leader, left.peers[1]);
});

test('malformed reports are refused: ids, peers, leader, keys, epochs, stats', (t) => {
  const { pd, left } = setup(t);
  const leader = left.peers[0]!;
  const hw = 10_000_000; // far above anything this PD allocated (batch of 1000)
  const variant = (f: (r: Region) => void): Region => {
    const r = cloneRegion(left);
    f(r);
    return r;
  };
  const bad: [string, RegionHeartbeat][] = [
    ['unallocated region id', { region: variant((r) => (r.id = hw)), leader, term: 5 }],
    [
      'unallocated peer id',
      { region: variant((r) => (r.peers[2] = { ...r.peers[2]!, id: hw })), leader, term: 5 },
    ],
    [
      'two peers on one store',
      {
        region: variant((r) => (r.peers[2] = { ...r.peers[2]!, storeId: 1 })),
        leader,
        term: 5,
      },
    ],
    ['a peer twice', { region: variant((r) => r.peers.push({ ...r.peers[0]! })), leader, term: 5 }],
    [
      'a learner as leader',
      {
        region: variant((r) => (r.peers[0] = { ...r.peers[0]!, role: PeerRole.Learner })),
        leader: { ...leader, role: PeerRole.Learner },
        term: 5,
      },
    ],
    [
      'too many peers',
      {
        region: variant((r) => {
          for (let i = 0; i < MAX_REGION_PEERS; i++) {
            r.peers.push({ id: pd.cluster.allocId(), storeId: 100 + i, role: PeerRole.Voter });
          }
        }),
        leader,
        term: 5,
      },
    ],
    [
      'a boundary key that is too long',
      {
        region: variant((r) => (r.startKey = Buffer.alloc(MAX_REGION_KEY_BYTES + 1, 1))),
        leader,
        term: 5,
      },
    ],
    [
      'conf_ver 0',
      { region: variant((r) => (r.epoch = { confVer: 0, version: 1 })), leader, term: 5 },
    ],
    [
      'version above the ceiling',
      {
        region: variant((r) => (r.epoch = { confVer: 1, version: MAX_EPOCH_COMPONENT + 1 })),
        leader,
        term: 5,
      },
    ],
    [
      'down peers that are not peers',
      {
        region: left,
        leader,
        term: 5,
        stats: {
          downPeers: [{ peer: { id: 77, storeId: 4, role: PeerRole.Voter }, downSeconds: 1 }],
        },
      },
    ],
  ];
  for (const [what, hb] of bad) {
    const before = snapshot(pd);
    assert.throws(
      () => pd.cluster.regionHeartbeat(hb),
      (e) => isPdError(e, PdErrorCode.InvalidArgument),
      what,
    );
    assert.deepEqual(snapshot(pd), before, what);
  }
  // A peer on a store PD never heard of.
  const ghost: Peer = { id: pd.cluster.allocId(), storeId: 99, role: PeerRole.Voter };
  refused(
    pd,
    { region: withEpoch({ ...left, peers: [...left.peers, ghost] }, 1, 2), leader, term: 5 },
    PdErrorCode.StoreNotFound,
  );
});

test('refused heartbeats leave nothing persisted across a PD restart', (t) => {
  const { pd, left, right, dir, clock } = setup(t);
  const leader = left.peers[0]!;
  const everything: Region = {
    id: pd.cluster.allocId(),
    startKey: key(''),
    endKey: key(''),
    epoch: { confVer: 1, version: 1_000_000 },
    peers: left.peers.map((p) => ({ ...p, id: pd.cluster.allocId() })),
  };
  const invented = cloneRegion(left);
  invented.peers.push({ id: pd.cluster.allocId(), storeId: 4, role: PeerRole.Voter });
  const forged: RegionHeartbeat[] = [
    { region: everything, leader: everything.peers[0]! },
    { region: everything, leader: everything.peers[0]!, term: 7 },
    { region: invented, leader, term: 7 },
    { region: withEpoch(right, MAX_EPOCH_COMPONENT), leader: right.peers[0]!, term: 7 },
  ];
  for (const hb of forged) assert.throws(() => pd.cluster.regionHeartbeat(hb));
  pd.close();

  const again = openPd(t, dir, { initialStores: 3, now: clock.now });
  assert.deepEqual(
    snapshot(again).map((i) => i.region),
    [left, right],
  );
  // And the real leaders are accepted by the restarted PD.
  again.cluster.regionHeartbeat({ region: left, leader, term: 5 });
  assert.deepEqual(again.cluster.getRegionById(left.id)?.leader, leader);
});
