// Unit tests of the leader's per-follower bookkeeping: the inflight window and the
// Progress state machine (probe / replicate / snapshot), as in etcd/raft's tracker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/raft/index.js';
import { Inflights, Progress, ProgressState } from '../../src/raft/tracker/index.js';

describe('Inflights', () => {
  test('frees every slot up to an acknowledged index, across the ring wrap-around', () => {
    const w = new Inflights(4, 0);
    for (const i of [1, 2, 3, 4]) w.add(i, 10);
    assert.equal(w.full(), true);
    assert.throws(() => w.add(5, 10), InvariantError);
    w.freeLE(2);
    assert.equal(w.length, 2);
    assert.equal(w.inflightBytes, 20);
    // These two occupy the slots freed at the front of the ring.
    w.add(5, 10);
    w.add(6, 10);
    assert.equal(w.full(), true);
    w.freeLE(0); // older than anything in flight: nothing happens
    assert.equal(w.length, 4);
    w.freeLE(5);
    assert.equal(w.length, 1);
    assert.equal(w.inflightBytes, 10);
    w.freeLE(100);
    assert.equal(w.length, 0);
    assert.equal(w.inflightBytes, 0);
    assert.equal(w.full(), false);
  });

  test('grows on demand up to its capacity, keeping the order across a wrapped ring', () => {
    const w = new Inflights(8, 0);
    w.add(1, 1);
    w.add(2, 2);
    w.freeLE(1); // the ring of 2 now starts at its second slot
    w.add(3, 3); // wraps to the first slot
    w.add(4, 4); // the ring is full at size 2: it grows, 2 and 3 first in order
    const copy = w.clone();
    for (const i of [5, 6, 7, 8, 9]) w.add(i, i);
    assert.equal(w.full(), true, 'capacity 8 reached');
    assert.throws(() => w.add(10, 10), InvariantError);
    w.freeLE(3);
    assert.deepEqual([w.length, w.inflightBytes], [6, 39]);
    w.freeLE(8);
    assert.deepEqual([w.length, w.inflightBytes], [1, 9]);
    // A clone is its own window.
    assert.deepEqual([copy.length, copy.inflightBytes], [3, 9]);
    copy.freeLE(3);
    assert.deepEqual([copy.length, copy.inflightBytes], [1, 4]);
  });

  test('is full by bytes once the in-flight bytes reach the limit', () => {
    const w = new Inflights(100, 1000);
    w.add(1, 400);
    w.add(2, 500);
    assert.equal(w.full(), false, '900 < 1000');
    w.add(3, 200);
    assert.equal(w.full(), true, 'one message may overshoot; then the window is closed');
    w.freeLE(1);
    assert.equal(w.inflightBytes, 700);
    assert.equal(w.full(), false);
    w.reset();
    assert.equal(w.length, 0);
    assert.equal(w.inflightBytes, 0);
  });
});

describe('Progress', () => {
  const progress = (match: number, next: number, cap = 2) => {
    const pr = new Progress(next, new Inflights(cap, 0), false);
    pr.match = match;
    return pr;
  };

  test('probe sends one append and waits; replicate pipelines until the window is full', () => {
    const pr = progress(3, 4);
    assert.equal(pr.state, ProgressState.Probe);
    pr.sentEntries(0, 0); // an empty probe does not pause
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(2, 20);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.next, 4, 'probing does not move next optimistically');

    assert.equal(pr.maybeUpdate(5), true);
    pr.becomeReplicate();
    assert.deepEqual([pr.next, pr.isPaused()], [6, false]);
    pr.sentEntries(3, 30);
    assert.deepEqual([pr.next, pr.isPaused()], [9, false]);
    pr.sentEntries(1, 10);
    assert.deepEqual([pr.next, pr.isPaused()], [10, true]);
    pr.inflights.freeLE(8);
    assert.equal(pr.maybeUpdate(8), true);
    assert.equal(pr.isPaused(), false);
  });

  test('maybeUpdate ignores old news and never moves next backwards', () => {
    const pr = progress(5, 9);
    assert.equal(pr.maybeUpdate(4), false);
    assert.equal(pr.maybeUpdate(5), false);
    assert.deepEqual([pr.match, pr.next], [5, 9]);
    assert.equal(pr.maybeUpdate(7), true);
    assert.deepEqual([pr.match, pr.next], [7, 9]);
    assert.equal(pr.maybeUpdate(12), true);
    assert.deepEqual([pr.match, pr.next], [12, 13]);
  });

  test('maybeDecrTo: replicate falls back to match+1; probe trusts only the latest probe', () => {
    const rep = progress(5, 10);
    rep.becomeReplicate();
    rep.next = 10;
    assert.equal(rep.maybeDecrTo(5, 0), false, 'rejection of a matched index is stale');
    assert.equal(rep.next, 10);
    assert.equal(rep.maybeDecrTo(8, 2), true);
    assert.equal(rep.next, 6);

    const probe = progress(5, 10);
    assert.equal(probe.maybeDecrTo(8, 2), false, 'not the index we last probed');
    assert.equal(probe.next, 10);
    probe.msgAppFlowPaused = true;
    assert.equal(probe.maybeDecrTo(9, 7), true);
    assert.deepEqual([probe.next, probe.msgAppFlowPaused], [8, false]);
    // The hint can never take next to or below match.
    probe.next = 8;
    assert.equal(probe.maybeDecrTo(7, 1), true);
    assert.equal(probe.next, 6);
  });

  test('snapshot state pauses appends; leaving it probes right after the snapshot', () => {
    const pr = progress(3, 4);
    pr.becomeSnapshot(20);
    assert.equal(pr.state, ProgressState.Snapshot);
    assert.equal(pr.isPaused(), true);
    pr.becomeProbe();
    assert.deepEqual([pr.state, pr.next, pr.pendingSnapshot], [ProgressState.Probe, 21, 0]);

    // A follower that got further than the snapshot probes from its match.
    const ahead = progress(3, 4);
    ahead.becomeSnapshot(20);
    ahead.maybeUpdate(25);
    ahead.becomeProbe();
    assert.equal(ahead.next, 26);
  });
});
