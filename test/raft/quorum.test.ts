// Quorum arithmetic (thesis §3.1, §4.3): a majority configuration commits the highest
// index acknowledged by a majority and decides an election once a majority granted or
// can no longer grant; a joint configuration needs both of its halves.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { JointConfig, MajorityConfig, SeededRand, VoteResult } from '../../src/raft/index.js';

/** An acked-index lookup from a plain table; ids not in it acknowledged nothing. */
const acks =
  (t: Record<number, number>) =>
  (id: number): number | undefined =>
    t[id];

const votes = (t: Record<number, boolean>) =>
  new Map(Object.entries(t).map(([k, v]) => [Number(k), v]));

describe('MajorityConfig.committedIndex', () => {
  test('odd sizes: the median acknowledged index', () => {
    assert.equal(new MajorityConfig([1]).committedIndex(acks({ 1: 7 })), 7);
    assert.equal(new MajorityConfig([1, 2, 3]).committedIndex(acks({ 1: 5, 2: 3, 3: 1 })), 3);
    assert.equal(
      new MajorityConfig([1, 2, 3, 4, 5]).committedIndex(acks({ 1: 9, 2: 1, 3: 7, 4: 3, 5: 5 })),
      5,
    );
  });

  test('even sizes: a majority is more than half, so the lower middle index', () => {
    assert.equal(new MajorityConfig([1, 2]).committedIndex(acks({ 1: 5, 2: 3 })), 3);
    assert.equal(
      new MajorityConfig([1, 2, 3, 4]).committedIndex(acks({ 1: 8, 2: 6, 3: 4, 4: 2 })),
      4,
    );
    // Two of four at 10 is only half.
    assert.equal(
      new MajorityConfig([1, 2, 3, 4]).committedIndex(acks({ 1: 10, 2: 10, 3: 1, 4: 1 })),
      1,
    );
  });

  test('voters that acknowledged nothing count as index 0', () => {
    const c = new MajorityConfig([1, 2, 3]);
    assert.equal(c.committedIndex(acks({ 1: 5 })), 0);
    assert.equal(c.committedIndex(acks({ 1: 5, 2: 4 })), 4);
    // Acks from non-members do not help.
    assert.equal(c.committedIndex(acks({ 1: 5, 7: 5, 8: 5 })), 0);
  });

  test('the empty configuration commits anything', () => {
    assert.equal(new MajorityConfig().committedIndex(acks({})), Number.POSITIVE_INFINITY);
  });

  test('agrees with the definition on random inputs', () => {
    const rnd = new SeededRand(42);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + rnd.intn(7);
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      const table: Record<number, number> = {};
      for (const id of ids) if (rnd.intn(4) > 0) table[id] = rnd.intn(10);
      // The largest i such that more than half of the voters acknowledged >= i.
      let expected = 0;
      for (let i = 0; i <= 10; i++) {
        const have = ids.filter((id) => (table[id] ?? 0) >= i).length;
        if (have > n / 2) expected = i;
      }
      assert.equal(
        new MajorityConfig(ids).committedIndex(acks(table)),
        expected,
        JSON.stringify(table),
      );
    }
  });
});

describe('MajorityConfig.voteResult', () => {
  test('one voter decides alone', () => {
    const c = new MajorityConfig([1]);
    assert.equal(c.voteResult(votes({})), VoteResult.Pending);
    assert.equal(c.voteResult(votes({ 1: true })), VoteResult.Won);
    assert.equal(c.voteResult(votes({ 1: false })), VoteResult.Lost);
  });

  test('three voters: two decide', () => {
    const c = new MajorityConfig([1, 2, 3]);
    assert.equal(c.voteResult(votes({ 1: true })), VoteResult.Pending);
    assert.equal(c.voteResult(votes({ 1: true, 2: false })), VoteResult.Pending);
    assert.equal(c.voteResult(votes({ 1: true, 3: true })), VoteResult.Won);
    assert.equal(c.voteResult(votes({ 2: false, 3: false })), VoteResult.Lost);
    // Non-members' votes are ignored.
    assert.equal(c.voteResult(votes({ 1: true, 9: true })), VoteResult.Pending);
  });

  test('four voters: a tie loses, three win', () => {
    const c = new MajorityConfig([1, 2, 3, 4]);
    assert.equal(c.voteResult(votes({ 1: true, 2: true })), VoteResult.Pending);
    assert.equal(c.voteResult(votes({ 1: true, 2: true, 3: false, 4: false })), VoteResult.Lost);
    assert.equal(c.voteResult(votes({ 1: true, 2: true, 4: true })), VoteResult.Won);
  });

  test('the empty configuration always wins', () => {
    assert.equal(new MajorityConfig().voteResult(votes({})), VoteResult.Won);
  });
});

describe('JointConfig', () => {
  test('committed index is the lower of the two halves', () => {
    const j = new JointConfig(new MajorityConfig([1, 2, 3]), new MajorityConfig([3, 4, 5]));
    assert.equal(j.isJoint(), true);
    // Incoming {1,2,3} reached 8; outgoing {3,4,5} only 2.
    const t = acks({ 1: 9, 2: 8, 3: 2, 4: 1, 5: 2 });
    assert.equal(new MajorityConfig([1, 2, 3]).committedIndex(t), 8);
    assert.equal(j.committedIndex(t), 2);
  });

  test('without an outgoing half it is the incoming configuration', () => {
    const j = new JointConfig(new MajorityConfig([1, 2, 3]));
    assert.equal(j.isJoint(), false);
    assert.equal(j.committedIndex(acks({ 1: 9, 2: 8, 3: 2 })), 8);
    assert.equal(j.voteResult(votes({ 1: true, 2: true })), VoteResult.Won);
    assert.deepEqual([...j.ids()].sort(), [1, 2, 3]);
  });

  test('a vote is won only when both halves win, lost when either loses', () => {
    const j = new JointConfig(new MajorityConfig([1, 2, 3]), new MajorityConfig([1, 4, 5]));
    assert.deepEqual([...j.ids()].sort(), [1, 2, 3, 4, 5]);
    assert.equal(j.has(4), true);
    assert.equal(j.has(6), false);
    assert.equal(j.voteResult(votes({ 1: true, 2: true })), VoteResult.Pending); // won + pending
    assert.equal(j.voteResult(votes({ 1: true, 2: true, 4: true })), VoteResult.Won);
    assert.equal(
      j.voteResult(votes({ 1: true, 2: true, 4: false, 5: false })),
      VoteResult.Lost, // won + lost
    );
    assert.equal(j.voteResult(votes({ 2: false, 3: false, 4: true })), VoteResult.Lost); // lost + pending
    assert.equal(j.voteResult(votes({})), VoteResult.Pending);
  });

  test('a majority of all members is not enough when one half lacks it', () => {
    // Five distinct members; 1, 4 and 5 are a majority of them and of the incoming
    // half, but only one of three in the outgoing half.
    const j = new JointConfig(new MajorityConfig([1, 4, 5]), new MajorityConfig([1, 2, 3]));
    assert.equal(j.committedIndex(acks({ 1: 5, 4: 5, 5: 5, 2: 1, 3: 1 })), 1);
    assert.equal(j.voteResult(votes({ 1: true, 4: true, 5: true })), VoteResult.Pending);
  });
});
