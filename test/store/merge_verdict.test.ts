// What a store may conclude about a fenced merge source from its own replica of the
// target, or from what is left of it (merge_verdict.ts). Each rollback verdict must be a
// proof: a wrong one rolls back a merge the target commits, and both Regions then own
// the source's keys.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerRole, Region } from '../../src/region/meta.js';
import type { MergeState, MergedRecord } from '../../src/storage/region_state.js';
import type { Tombstone } from '../../src/storage/tombstone.js';
import { mergeVerdict } from '../../src/store/merge_verdict.js';

const b = (s: string) => Buffer.from(s);
const STORE = 3;

function region(
  id: number,
  start: string,
  end: string,
  confVer: number,
  version: number,
  peers: number[],
): Region {
  return {
    id,
    startKey: b(start),
    endKey: b(end),
    epoch: { confVer, version },
    peers: peers.map((p, i) => ({ id: p, storeId: i + 1, role: PeerRole.Voter })),
  };
}

// Target 1 ['', 'k') recorded at 3/2 with peer 10004 on store 3; source 10000 ['k', '').
const RECORDED = region(1, '', 'k', 3, 2, [101, 102, 10004]);
const SOURCE = region(10000, 'k', '', 3, 3, [10001, 10002, 10003]);
const M: MergeState = { minIndex: 5, commit: 9, target: RECORDED };

const at = (confVer: number, version: number, end = 'k') => ({
  ...RECORDED,
  endKey: b(end),
  epoch: { confVer, version },
});

/** The verdict from a live replica of the target at `region`, holding `merged`. */
const live = (region: Region, merged: MergedRecord[] = []) =>
  mergeVerdict(SOURCE, M, STORE, { region, merged }, undefined).kind;
/** The verdict with no replica of the target here, only what its tombstone says. */
const gone = (t: Tombstone | undefined) => mergeVerdict(SOURCE, M, STORE, undefined, t).kind;

describe('merge verdict from a live replica of the target', () => {
  test('its merged record: the source was taken in', () => {
    assert.equal(live(at(3, 9, 'f'), [{ source: 10000, commit: 9, target: 1 }]), 'merged');
  });

  test('a record of another prepare of the same source is not this merge', () => {
    assert.equal(live(at(3, 9, 'f'), [{ source: 10000, commit: 4, target: 1 }]), 'cannotCommit');
  });

  test('past the recorded epoch without the record (a split, a conf change): cannot commit', () => {
    assert.equal(live(at(3, 3, 'f')), 'cannotCommit');
    assert.equal(live(at(4, 2)), 'cannotCommit');
  });

  test('covering the source at a later version: merged (a file from before records were kept)', () => {
    assert.equal(live(at(3, 4, '')), 'merged');
  });

  test('at the recorded epoch: the commit can apply; behind it: nothing known yet', () => {
    assert.equal(live(at(3, 2)), 'atRecorded');
    assert.equal(live(at(2, 2)), 'unknown');
    assert.equal(live(at(0, 0, '')), 'unknown');
  });
});

describe('merge verdict with no replica of the target here', () => {
  test('the tombstone of an older replica proves nothing, even at the recorded epoch', () => {
    // Peer 103 was removed while away and tombstoned at PD's epoch, which already listed
    // its successor 10004 as a learner not yet created here. The target's leader
    // elsewhere can still commit.
    const t = { confVer: 3, version: 2, peerId: 103, appliedEnd: false };
    assert.equal(gone(t), 'unknown');
    assert.equal(gone({ ...t, confVer: 4, appliedEnd: true }), 'unknown');
  });

  test('the recorded peer destroyed from outside (PD, a covering snapshot) proves nothing', () => {
    const t = { confVer: 5, version: 2, peerId: 10004, appliedEnd: false };
    assert.equal(gone(t), 'unknown');
  });

  test('the recorded peer destroyed at its own end past the recorded epoch: cannot commit', () => {
    const removed = { confVer: 4, version: 2, peerId: 10004, appliedEnd: true };
    assert.equal(gone(removed), 'cannotCommit');
    const mergedAway = { confVer: 4, version: 3, peerId: 10004, appliedEnd: true };
    assert.equal(gone(mergedAway), 'cannotCommit');
  });

  test('nothing at all (a learner awaiting its snapshot): unknown', () => {
    assert.equal(gone(undefined), 'unknown');
  });
});
