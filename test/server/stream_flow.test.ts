// Flow control of BatchCommands streams against a fake gRPC duplex call (the layer below):
// the fake holds written messages until the "client" reads them, like a closed HTTP/2
// window, and says when the writer must wait for 'drain'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConnectionFlows,
  FlowCall,
  FlowLimits,
  approxBytes,
} from '../../src/server/stream_flow.js';

type Answer = { id: number; bytes: number };
type Msg = Answer[];

class FakeCall implements FlowCall<Msg> {
  paused = false;
  writable = true;
  /** Messages written and not yet read by the client, with their write callbacks. */
  unread: { msg: Msg; cb: () => void }[] = [];
  /** write() returns false once this many messages are unread (a stream's highWaterMark). */
  constructor(readonly highWater = 2) {}
  private drainListeners: (() => void)[] = [];
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  write(msg: Msg, cb: () => void): boolean {
    assert.ok(this.writable, 'write after end');
    this.unread.push({ msg, cb });
    return this.unread.length < this.highWater;
  }
  once(_e: 'drain', l: () => void): unknown {
    this.drainListeners.push(l);
    return this;
  }
  /** The client reads everything written so far. */
  read(): Answer[] {
    const got = this.unread.flatMap((u) => u.msg);
    const cbs = this.unread.map((u) => u.cb);
    this.unread = [];
    for (const cb of cbs) cb();
    const ls = this.drainListeners;
    this.drainListeners = [];
    for (const l of ls) l();
    return got;
  }
}

const LIMITS: FlowLimits = {
  streamInFlight: 4,
  streamUnsentBytes: 100,
  connInFlight: 6,
  connUnsentBytes: 150,
  messageBytes: 50,
};
const turn = () => new Promise((r) => setImmediate(r));

function open(flows: ConnectionFlows, peer: string, call: FakeCall) {
  return flows.open<Answer, Msg>(
    peer,
    call,
    (a) => a,
    (a) => a.bytes,
  );
}

test('a stream pauses at its in-flight bound, refuses what it already read, resumes when answers leave', async () => {
  const flows = new ConnectionFlows(LIMITS);
  const call = new FakeCall(100);
  const flow = open(flows, 'c1', call);
  for (let i = 0; i < 4; i++) assert.equal(flow.admit(), true);
  assert.equal(call.paused, true, 'paused at 4 in flight');
  assert.equal(flow.admit(), false, 'a fifth request read before the pause is refused');
  flow.answer({ id: 1, bytes: 10 });
  assert.equal(call.paused, false, 'resumes once one is answered');
  assert.equal(flow.admit(), true);
});

test('unsent bytes pause the stream until the client reads; writes wait for drain', async () => {
  const flows = new ConnectionFlows(LIMITS);
  const call = new FakeCall(2);
  const flow = open(flows, 'c1', call);
  for (let i = 0; i < 4; i++) assert.equal(flow.admit(), true);
  for (let i = 0; i < 4; i++) flow.answer({ id: i, bytes: 40 });
  assert.equal(flow.unsentBytes, 160);
  assert.equal(call.paused, true, 'over 100 unsent bytes');
  assert.equal(flow.admit(), false);
  await turn();
  // 40-byte answers in 50-byte messages: one per message; the fake says wait after two.
  assert.equal(call.unread.length, 2, 'nothing written after write() returned false');
  assert.equal(flow.unsentBytes, 160, 'written but unread bytes still count');
  const first = call.read();
  assert.deepEqual(
    first.map((a) => a.id),
    [0, 1],
  );
  // drain → the remaining two are written; still unread, so still counted.
  assert.equal(call.unread.length, 2);
  assert.equal(flow.unsentBytes, 80);
  assert.equal(call.paused, false, 'under the bound again');
  assert.deepEqual(
    call.read().map((a) => a.id),
    [2, 3],
  );
  assert.equal(flow.unsentBytes, 0);
});

test('answers that fit share a message; a message always carries at least one', async () => {
  const flows = new ConnectionFlows({ ...LIMITS, streamUnsentBytes: 1000, connUnsentBytes: 1000 });
  const call = new FakeCall(100);
  const flow = open(flows, 'c1', call);
  for (let i = 0; i < 4; i++) flow.admit();
  flow.answer({ id: 0, bytes: 20 });
  flow.answer({ id: 1, bytes: 20 });
  flow.answer({ id: 2, bytes: 70 });
  flow.answer({ id: 3, bytes: 5 });
  await turn();
  assert.deepEqual(
    call.unread.map((u) => u.msg.map((a) => a.id)),
    [[0, 1], [2], [3]],
  );
});

test('streams of one connection share its bounds; another connection is not held back', async () => {
  const flows = new ConnectionFlows(LIMITS);
  const a = new FakeCall(100);
  const b = new FakeCall(100);
  const other = new FakeCall(100);
  const fa = open(flows, 'c1', a);
  const fb = open(flows, 'c1', b);
  const fo = open(flows, 'c2', other);
  for (let i = 0; i < 3; i++) assert.equal(fa.admit(), true);
  for (let i = 0; i < 3; i++) assert.equal(fb.admit(), true);
  assert.equal(fb.admit(), false, 'connection holds 6 in flight');
  assert.equal(a.paused, true, 'every stream of the connection pauses');
  assert.equal(b.paused, true);
  for (let i = 0; i < 4; i++) assert.equal(fo.admit(), true, 'another connection has its own');
  fa.answer({ id: 0, bytes: 1 });
  assert.equal(b.paused, false, 'an answer on one stream lets the others read');
  fa.close();
  fb.close();
  assert.equal(flows.size, 1);
  fo.close();
  assert.equal(flows.size, 0);
});

test('a closed stream releases its unsent bytes; late answers release their count', async () => {
  const flows = new ConnectionFlows(LIMITS);
  const a = new FakeCall(100);
  const b = new FakeCall(100);
  const fa = open(flows, 'c1', a);
  const fb = open(flows, 'c1', b);
  fa.admit();
  fa.admit();
  fa.answer({ id: 0, bytes: 150 });
  assert.equal(b.paused, true, 'the connection holds 150 unsent bytes');
  assert.equal(fb.admit(), false);
  fa.close();
  assert.equal(b.paused, false, 'the closed stream gave its bytes back');
  assert.equal(fb.admit(), true);
  fa.answer({ id: 2, bytes: 10 });
  assert.equal(fa.inFlight, 0);
  assert.throws(() => fa.answer({ id: 3, bytes: 1 }), /without an admitted request/);
});

test('approxBytes counts byte strings and fields', () => {
  const n = approxBytes({ requestId: '7', rawGet: { value: Buffer.alloc(1000) } });
  assert.ok(n >= 1000 && n < 1100, String(n));
});
