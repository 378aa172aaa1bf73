// The receiving side of snapshot streams (issue 7, findings 3 and 4): what is admitted,
// verified and delivered, and that whatever is refused leaves nothing on disk. The gRPC
// stream below the inbox is an EventEmitter playing the server call; the files are real.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole, type Peer, type Region } from '../../src/region/meta.js';
import { RegionEngine } from '../../src/storage/region_engine.js';
import {
  decodeSnapshotDescriptor,
  describeSnapshot,
  encodeSnapshotDescriptor,
  readSnapshotChunks,
  type SnapshotDescriptor,
} from '../../src/storage/region_snapshot.js';
import { encodeEnvelope } from '../../src/store/envelope_codec.js';
import type { Refusal } from '../../src/store/message_validator.js';
import type { RaftEnvelope } from '../../src/store/raft_store.js';
import {
  DEFAULT_SNAPSHOT_LIMITS,
  SnapshotInbox,
  cleanSnapDir,
  type SnapshotLimits,
} from '../../src/store/snap_transfer.js';

const voter = (id: number, storeId: number): Peer => ({ id, storeId, role: PeerRole.Voter });
const LEADER = voter(11, 1);
const ME = voter(12, 2);
const REGION: Region = {
  id: 1,
  startKey: Buffer.alloc(0),
  endKey: Buffer.alloc(0),
  epoch: { confVer: 1, version: 1 },
  peers: [LEADER, ME, voter(13, 3)],
};

function tmp(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-inbox-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real Region snapshot file at (50, 7), made the way a leader makes one. */
function leaderSnapshot(t: TestContext): { file: string; desc: SnapshotDescriptor } {
  const e = new RegionEngine(tmp(t), 1);
  t.after(() => e.close());
  e.applyBatch(
    [{ op: 'put', table: 'raw', key: Buffer.from('k'), value: Buffer.from('v') }],
    { appliedIndex: 50, appliedTerm: 7 },
    { region: REGION, tombstone: false },
  );
  const info = e.exportSnapshot();
  return { file: info.path, desc: describeSnapshot(info) };
}

function header(desc: SnapshotDescriptor, from: Peer = LEADER, regionId = 1): RaftEnvelope {
  return {
    regionId,
    fromPeer: from,
    toPeer: ME,
    epoch: REGION.epoch,
    message: newMessage({
      type: MessageType.Snap,
      from: from.id,
      to: ME.id,
      term: 7,
      snapshot: {
        data: encodeSnapshotDescriptor(desc),
        metadata: {
          index: desc.applyState.appliedIndex,
          term: desc.applyState.appliedTerm,
          confState: {
            voters: [11, 12, 13],
            votersOutgoing: [],
            learners: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
      },
    }),
  };
}

/** The store behind the inbox, recording what reaches it. */
class Target {
  delivered: RaftEnvelope[] = [];
  refusals: Refusal[] = [];
  refuseCheck: Refusal | undefined;
  refuseDeliver: Refusal | undefined;
  check = (env: RaftEnvelope) =>
    env.regionId === REGION.id
      ? this.refuseCheck
      : { reason: 'unknown-region' as const, detail: 'not here' };
  deliver = (env: RaftEnvelope) => {
    if (this.refuseDeliver) return this.refuseDeliver;
    this.delivered.push(env);
    return undefined;
  };
  refused = (r: Refusal) => {
    this.refusals.push(r);
  };
}

/** A server-side snapshot call: the test pushes chunks, the inbox answers once. */
class Call extends EventEmitter {
  answer: Promise<Partial<grpc.StatusObject> | null>;
  private resolve!: (e: Partial<grpc.StatusObject> | null) => void;
  answered = false;

  constructor(inbox: SnapshotInbox) {
    super();
    this.answer = new Promise((r) => (this.resolve = r));
    inbox.receive(
      this as unknown as Parameters<SnapshotInbox['receive']>[0],
      (err: Partial<grpc.StatusObject> | null) => {
        assert.equal(this.answered, false, 'answered twice');
        this.answered = true;
        this.resolve(err);
      },
    );
  }

  header(env: RaftEnvelope): this {
    this.emit('data', { payload: 'header', header: encodeEnvelope(env) });
    return this;
  }

  data(b: Buffer): this {
    this.emit('data', { payload: 'data', data: b });
    return this;
  }

  file(file: string): this {
    for (const c of readSnapshotChunks(file, 4096)) this.data(c);
    return this;
  }

  end(): Promise<Partial<grpc.StatusObject> | null> {
    this.emit('end');
    return this.answer;
  }
}

function setup(t: TestContext, limits: Partial<SnapshotLimits> = {}) {
  const dir = tmp(t);
  const target = new Target();
  const inbox = new SnapshotInbox(dir, target, { ...DEFAULT_SNAPSHOT_LIMITS, ...limits });
  return { dir, target, inbox };
}

test('a verified snapshot is delivered, naming a local file of our own naming', async (t) => {
  const { dir, target, inbox } = setup(t);
  const { file, desc } = leaderSnapshot(t);
  const err = await new Call(inbox).header(header(desc)).file(file).end();
  assert.equal(err, null);
  assert.equal(target.delivered.length, 1);
  const local = decodeSnapshotDescriptor(target.delivered[0]!.message.snapshot!.data);
  assert.notEqual(local.name, desc.name);
  assert.ok(fs.existsSync(path.join(dir, local.name)));
  assert.deepEqual(fs.readdirSync(dir), [local.name]);
  assert.equal(inbox.inFlight, 0);
});

test('a file Raft no longer holds, because it took a newer snapshot, is removed', async (t) => {
  const { dir, target, inbox } = setup(t);
  const { file, desc } = leaderSnapshot(t);
  assert.equal(await new Call(inbox).header(header(desc)).file(file).end(), null);
  const first = decodeSnapshotDescriptor(target.delivered[0]!.message.snapshot!.data).name;
  assert.equal(await new Call(inbox).header(header(desc)).file(file).end(), null);
  const second = decodeSnapshotDescriptor(target.delivered[1]!.message.snapshot!.data).name;
  assert.deepEqual(fs.readdirSync(dir), [second]);
  assert.notEqual(first, second);
});

test('a snapshot for a Region that does not expect one is refused before a byte is written', async (t) => {
  const { dir, target, inbox } = setup(t);
  const { file, desc } = leaderSnapshot(t);
  const call = new Call(inbox).header(header(desc, LEADER, 9));
  assert.ok(call.answered, 'refused at the header');
  const err = await call.file(file).end();
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(
    target.refusals.map((r) => r.reason),
    ['unknown-region'],
  );
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.equal(target.delivered.length, 0);
});

test('a file that is not a database, or not at the metadata index, is refused and removed', async (t) => {
  const { dir, target, inbox } = setup(t);
  const garbage = crypto.randomBytes(10_000);
  const fake: SnapshotDescriptor = {
    regionId: 1,
    name: 'region-1-50-7.sqlite',
    size: garbage.length,
    checksum: crypto.createHash('sha256').update(garbage).digest('hex'),
    applyState: { appliedIndex: 50, appliedTerm: 7 },
  };
  const err = await new Call(inbox).header(header(fake)).data(garbage).end();
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);

  // A real database, but the metadata claims another index than the file holds.
  const { file, desc } = leaderSnapshot(t);
  const lying = { ...desc, applyState: { appliedIndex: 60, appliedTerm: 7 } };
  const err2 = await new Call(inbox).header(header(lying)).file(file).end();
  assert.equal(err2?.code, grpc.status.INVALID_ARGUMENT);

  // A checksum that does not match what arrived.
  const err3 = await new Call(inbox)
    .header(header({ ...desc, checksum: 'b'.repeat(64) }))
    .file(file)
    .end();
  assert.equal(err3?.code, grpc.status.INVALID_ARGUMENT);

  assert.deepEqual(
    target.refusals.map((r) => r.reason),
    ['bad-snapshot-file', 'bad-snapshot-file', 'bad-snapshot'],
  );
  assert.equal(target.delivered.length, 0);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a snapshot the store no longer takes when it is complete is removed', async (t) => {
  const { dir, target, inbox } = setup(t);
  const { file, desc } = leaderSnapshot(t);
  target.refuseDeliver = { reason: 'snapshot-not-needed', detail: 'caught up meanwhile' };
  const err = await new Call(inbox).header(header(desc)).file(file).end();
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a stream is cut off at its declared size, and a declared size above the limit is refused', async (t) => {
  const { dir, target, inbox } = setup(t, { maxSnapshotBytes: 1 << 20 });
  const { desc } = leaderSnapshot(t);
  const call = new Call(inbox).header(header({ ...desc, size: 5000 }));
  call.data(Buffer.alloc(4000));
  assert.equal(call.answered, false);
  call.data(Buffer.alloc(4000)); // 8000 > 5000: no need to wait for the end
  assert.equal((await call.answer)?.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(fs.readdirSync(dir), []);

  const huge = new Call(inbox).header(header({ ...desc, size: (1 << 20) + 1 }));
  assert.equal((await huge.answer)?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.deepEqual(
    target.refusals.map((r) => r.reason),
    ['bad-snapshot', 'snapshot-too-large'],
  );
  assert.equal(inbox.inFlight, 0);
});

test('streams in flight are bounded per sending store and in all; slots come back', async (t) => {
  const { inbox, target } = setup(t, { maxInFlightPerStore: 1, maxInFlight: 2 });
  const { file, desc } = leaderSnapshot(t);
  const first = new Call(inbox).header(header(desc)).data(Buffer.alloc(10));
  const second = new Call(inbox).header(header(desc));
  assert.equal((await second.answer)?.code, grpc.status.RESOURCE_EXHAUSTED);
  // Another store may still send (a member of the Region, in this test's target).
  const other = new Call(inbox).header(header(desc, voter(13, 3)));
  assert.equal(other.answered, false);
  assert.equal(inbox.inFlight, 2);
  const third = new Call(inbox).header(header(desc, voter(14, 4)));
  assert.equal((await third.answer)?.code, grpc.status.RESOURCE_EXHAUSTED);
  // The first sender goes away: its slot and its partial file are released.
  first.emit('error', new Error('cancelled'));
  assert.equal(inbox.inFlight, 1);
  const again = await new Call(inbox).header(header(desc)).file(file).end();
  assert.equal(again, null);
  other.emit('error', new Error('cancelled'));
  assert.equal(inbox.inFlight, 0);
  assert.deepEqual(
    target.refusals.map((r) => r.reason),
    ['snapshot-busy', 'snapshot-busy'],
  );
});

test('a stream that goes silent is cut off and its partial file removed', async (t) => {
  const { dir, inbox, target } = setup(t, { idleTimeoutMs: 50 });
  const { desc } = leaderSnapshot(t);
  const call = new Call(inbox).header(header(desc)).data(Buffer.alloc(100));
  assert.equal(fs.readdirSync(dir).length, 1);
  // The inbox's idle timer does not hold the process open (a server does, in production):
  // keep this test's process alive until the timer has fired.
  const keepAlive = setTimeout(() => undefined, 10_000);
  t.after(() => clearTimeout(keepAlive));
  assert.equal((await call.answer)?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.equal(inbox.inFlight, 0);
  assert.deepEqual(
    target.refusals.map((r) => r.reason),
    ['snapshot-idle'],
  );
});

test('garbage in place of a header, or data before it, is refused', async (t) => {
  const { inbox, target } = setup(t);
  const c1 = new Call(inbox);
  c1.emit('data', { payload: 'header', header: { regionId: '1', message: null } });
  assert.equal((await c1.answer)?.code, grpc.status.INVALID_ARGUMENT);
  const c2 = new Call(inbox).data(Buffer.alloc(10));
  assert.equal((await c2.answer)?.code, grpc.status.INVALID_ARGUMENT);
  const c3 = new Call(inbox);
  assert.equal((await c3.end())?.code, grpc.status.INVALID_ARGUMENT);
  assert.deepEqual(
    target.refusals.map((r) => r.reason),
    ['decode', 'bad-snapshot', 'bad-snapshot'],
  );
});

test('cleanSnapDir removes whatever a previous run left', (t) => {
  const dir = tmp(t);
  fs.writeFileSync(path.join(dir, 'recv-1-50-7-1-1.sqlite'), 'x');
  fs.writeFileSync(path.join(dir, 'recv-1-60-7-1-2.sqlite.part'), 'x');
  fs.mkdirSync(path.join(dir, 'odd'));
  assert.equal(cleanSnapDir(dir), 3);
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.equal(cleanSnapDir(path.join(dir, 'missing')), 0);
});
