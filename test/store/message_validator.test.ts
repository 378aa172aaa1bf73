// The checks every Raft message from a peer passes before Raft sees it (issue 7, finding 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  encodeConfChange,
  newMessage,
  type ConfState,
  type Entry,
  type Message,
} from '../../src/raft/index.js';
import { PeerRole, type Peer, type Region } from '../../src/region/meta.js';
import { encodeSnapshotDescriptor } from '../../src/storage/region_snapshot.js';
import { encodeCommand } from '../../src/store/cmd/command.js';
import {
  checkEntryData,
  checkRaftMessage,
  type Channel,
  type DropReason,
  type ReceiverView,
} from '../../src/store/message_validator.js';
import type { RaftEnvelope } from '../../src/store/raft_store.js';

const voter = (id: number, storeId: number): Peer => ({ id, storeId, role: PeerRole.Voter });
const P1 = voter(11, 1);
const P2 = voter(12, 2); // the receiver
const P3 = voter(13, 3);

const region: Region = {
  id: 1,
  startKey: Buffer.from('a'),
  endKey: Buffer.from('m'),
  epoch: { confVer: 2, version: 5 },
  peers: [P1, P2, P3],
};

const view: ReceiverView = { storeId: 2, peerId: 12, region, lastIndex: 40, committed: 30 };

function env(m: Partial<Message> & Pick<Message, 'type'>, over: Partial<RaftEnvelope> = {}) {
  const fromPeer = over.fromPeer ?? P1;
  const toPeer = over.toPeer ?? P2;
  return {
    regionId: 1,
    fromPeer,
    toPeer,
    epoch: { ...region.epoch },
    ...over,
    message: newMessage({ from: fromPeer.id, to: toPeer.id, term: 7, ...m }),
  };
}

function expect(
  e: RaftEnvelope,
  reason: DropReason | undefined,
  channel: Channel = e.message.type === MessageType.Snap ? 'snapshot' : 'messages',
) {
  const got = checkRaftMessage(e, view, channel);
  assert.equal(got?.reason, reason, got?.detail ?? 'accepted');
}

const command = (regionId = 1) =>
  encodeCommand({
    regionId,
    epoch: region.epoch,
    timeMs: 1,
    requests: [
      { writes: [{ op: 'put', cf: 'raw', key: Buffer.from('b'), value: Buffer.from('v') }] },
    ],
  });

const entry = (index: number, term: number, data: Uint8Array, type = EntryType.Normal): Entry => ({
  index,
  term,
  type,
  data,
});

test('messages of members, addressed to this peer, pass', () => {
  expect(env({ type: MessageType.Heartbeat, commit: 30 }), undefined);
  expect(env({ type: MessageType.AppResp, index: 35 }, { fromPeer: P3 }), undefined);
  expect(env({ type: MessageType.PreVote, term: 8, logTerm: 7, index: 40 }), undefined);
  // A member whose epoch is older has not applied the latest change yet (TiKV check_msg).
  expect(env({ type: MessageType.Heartbeat }, { epoch: { confVer: 1, version: 1 } }), undefined);
  // A forwarded read request travels without a term, with its context as the one entry.
  expect(
    env({ type: MessageType.ReadIndex, term: 0, entries: [entry(0, 0, new Uint8Array([1]))] }),
    undefined,
  );
});

test('messages not addressed to this peer, or whose envelope disagrees with the body, are dropped', () => {
  expect(env({ type: MessageType.Heartbeat }, { regionId: 2 }), 'wrong-receiver');
  expect(env({ type: MessageType.Heartbeat }, { toPeer: voter(13, 2) }), 'wrong-receiver');
  expect(env({ type: MessageType.Heartbeat }, { toPeer: voter(12, 3) }), 'wrong-receiver');
  expect(env({ type: MessageType.Heartbeat, from: 13 }), 'envelope-mismatch');
  expect(env({ type: MessageType.Heartbeat, to: 99 }), 'envelope-mismatch');
  // A follower forwards a transfer request naming the transferee as its sender.
  expect(env({ type: MessageType.TransferLeader, from: 13 }), undefined);
  expect(env({ type: MessageType.TransferLeader, from: 99 }), 'envelope-mismatch');
});

test('senders that are not members of the Region, on their own store, are dropped', () => {
  expect(env({ type: MessageType.Heartbeat, term: 8 }, { fromPeer: voter(99, 9) }), 'not-member');
  // A member's peer id claimed by another store.
  expect(env({ type: MessageType.Heartbeat }, { fromPeer: voter(11, 3) }), 'not-member');
  // This store's own id, and our own peer id.
  expect(env({ type: MessageType.Heartbeat }, { fromPeer: voter(11, 2) }), 'not-member');
  expect(env({ type: MessageType.Heartbeat }, { fromPeer: voter(12, 2) }), 'not-member');
  // A newer epoch does not make an unknown peer a member (see the module header).
  expect(
    env(
      { type: MessageType.Heartbeat },
      { fromPeer: voter(14, 4), epoch: { confVer: 3, version: 5 } },
    ),
    'not-member',
  );
  // An older epoch from a non-member: a removed peer still talking (TiKV drops it too).
  expect(
    env(
      { type: MessageType.Vote, term: 9 },
      { fromPeer: voter(10, 4), epoch: { confVer: 1, version: 5 } },
    ),
    'not-member',
  );
});

test('local-only types, and snapshots outside a snapshot stream, are dropped', () => {
  for (const type of [
    MessageType.Hup,
    MessageType.Beat,
    MessageType.Prop,
    MessageType.Unreachable,
    MessageType.SnapStatus,
    MessageType.CheckQuorum,
  ])
    expect(env({ type }), 'message-type');
  expect(env({ type: MessageType.Snap }), 'message-type', 'messages');
  expect(env({ type: MessageType.Heartbeat }), 'message-type', 'snapshot');
  expect(env({ type: MessageType.Heartbeat, term: 0 }), 'bad-term');
  expect(env({ type: MessageType.App, term: 0 }), 'bad-term');
});

test('an append must carry contiguous, well-termed entries that decode', () => {
  const app = (entries: Entry[], m: Partial<Message> = {}) =>
    env({ type: MessageType.App, index: 30, logTerm: 6, commit: 31, entries, ...m });
  expect(app([entry(31, 6, command()), entry(32, 7, new Uint8Array())]), undefined);
  expect(app([entry(32, 7, command())]), 'bad-entries'); // gap
  expect(app([entry(31, 7, command()), entry(33, 7, command())]), 'bad-entries');
  expect(app([entry(31, 5, command())]), 'bad-entries'); // below the previous term
  expect(app([entry(31, 7, command()), entry(32, 6, command())]), 'bad-entries');
  expect(app([entry(31, 8, command())]), 'bad-entries'); // above the message's term
  expect(app([], { logTerm: 8 }), 'bad-entries');
  expect(app([entry(31, 7, Buffer.from('garbage'))]), 'bad-entries');
  expect(app([entry(31, 7, command(2))]), 'bad-entries'); // another Region's command
  expect(app([entry(31, 7, new Uint8Array([1, 2, 3]), EntryType.ConfChange)]), 'bad-entries');
  // Entries on a message that carries none.
  expect(env({ type: MessageType.Heartbeat, entries: [entry(31, 7, command())] }), 'bad-entries');
  expect(env({ type: MessageType.ReadIndexResp, entries: [] }), 'bad-entries');
});

test('conf change entries must decode exactly, naming real node ids', () => {
  const cc = encodeConfChange({
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 14 }],
  });
  const check = (data: Uint8Array) => checkEntryData(entry(31, 7, data, EntryType.ConfChange), 1);
  assert.equal(check(cc), undefined);
  assert.equal(
    check(encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [] })),
    undefined,
  );
  assert.match(check(new Uint8Array([1, 2, 3]))!, /not a conf change/);
  assert.match(check(Buffer.concat([cc, Buffer.from([0])]))!, /trailing/);
  assert.match(check(cc.subarray(0, cc.length - 2))!, /not a conf change|trailing/);
  for (const nodeId of [0, -1, 1.5, NaN, 2 ** 60])
    assert.match(
      check(
        encodeConfChange({
          transition: ConfChangeTransition.Auto,
          changes: [{ type: ConfChangeType.AddNode, nodeId }],
        }),
      )!,
      /names node/,
    );
});

test("a heartbeat may not commit past the receiver's log", () => {
  expect(env({ type: MessageType.Heartbeat, commit: 40 }), undefined);
  expect(env({ type: MessageType.Heartbeat, commit: 41 }), 'bad-commit');
});

test('a snapshot must be needed, include this peer, restore cleanly, and match its descriptor', () => {
  const cs = (over: Partial<ConfState> = {}): ConfState => ({
    voters: [11, 12, 13],
    votersOutgoing: [],
    learners: [],
    learnersNext: [],
    autoLeave: false,
    ...over,
  });
  const desc = (over: object = {}) =>
    encodeSnapshotDescriptor({
      regionId: 1,
      name: 'region-1-50-7.sqlite',
      size: 4096,
      checksum: 'a'.repeat(64),
      applyState: { appliedIndex: 50, appliedTerm: 7 },
      ...over,
    });
  const snap = (o: { index?: number; term?: number; confState?: ConfState; data?: Uint8Array }) =>
    env({
      type: MessageType.Snap,
      snapshot: {
        data: o.data ?? desc(),
        metadata: { index: o.index ?? 50, term: o.term ?? 7, confState: o.confState ?? cs() },
      },
    });
  expect(snap({}), undefined);
  expect(
    snap({ index: 30, data: desc({ applyState: { appliedIndex: 30, appliedTerm: 7 } }) }),
    'snapshot-not-needed',
  );
  expect(snap({ term: 8 }), 'bad-snapshot'); // newer than the message
  expect(snap({ confState: cs({ voters: [11, 13] }) }), 'bad-snapshot'); // without us
  expect(snap({ confState: cs({ voters: [], learners: [12] }) }), 'bad-snapshot');
  expect(snap({ confState: cs({ learners: [12] }) }), 'bad-snapshot'); // voter and learner
  expect(snap({ confState: cs({ voters: [11, 12, 12, 13] }) }), 'bad-snapshot'); // listed twice
  expect(snap({ confState: cs({ autoLeave: true }) }), 'bad-snapshot'); // not joint
  expect(snap({ data: Buffer.from('not json') }), 'bad-snapshot');
  expect(snap({ data: desc({ name: '../../raft/raft.db' }) }), 'bad-snapshot');
  expect(snap({ data: desc({ size: -1 }) }), 'bad-snapshot');
  expect(snap({ data: desc({ checksum: 'x' }) }), 'bad-snapshot');
  expect(snap({ data: desc({ regionId: 2 }) }), 'bad-snapshot');
  expect(
    snap({ data: desc({ applyState: { appliedIndex: 51, appliedTerm: 7 } }) }),
    'bad-snapshot',
  );
  expect(env({ type: MessageType.Snap }), 'bad-snapshot'); // no snapshot at all
  // A peer applying a split on worker threads takes none now; the leader sends it again.
  const splitting = checkRaftMessage(snap({}), { ...view, applyingSplit: true }, 'snapshot');
  assert.equal(splitting?.reason, 'split-in-progress');
  expect(
    env({
      type: MessageType.Heartbeat,
      snapshot: { data: desc(), metadata: { index: 50, term: 7, confState: cs() } },
    }),
    'bad-snapshot',
  );
});
