// Region heartbeats from a store's leaders to PD over one long-lived bidi stream.
// Fire-and-forget: a heartbeat is written if the stream is up, and dropped (counted) if
// PD is unreachable — the leader sends a fresh one on its next tick anyway, so queueing
// stale reports would only replay old news. A broken stream is reopened by the next
// heartbeat after a backoff. What PD sends back (an operator step, or the reason a
// heartbeat was refused) goes to the listeners.
import type * as grpc from '@grpc/grpc-js';
import type { RegionHeartbeat } from '../pd/cluster.js';
import type { PdError } from '../pd/errors.js';
import type { Peer, Region, RegionEpoch, RegionId } from '../region/meta.js';
import { epochFromProto, peerFromProto, regionFromProto } from '../proto/convert_meta.js';
import { regionHeartbeatToProto } from '../proto/convert_pd.js';
import { uint64ToNumber } from '../proto/uint64.js';
import type { RegionHeartbeatRequest } from '../proto-gen/nyx/pd/RegionHeartbeatRequest.js';
import type { RegionHeartbeatResponse__Output } from '../proto-gen/nyx/pd/RegionHeartbeatResponse.js';
import { Backoff } from './backoff.js';
import type { PdStreamContext } from './pd_stream_context.js';

/** One operator step PD wants a Region leader to take (at most one field is set). */
export interface RegionInstruction {
  regionId: RegionId;
  /** The epoch PD computed the step against; a leader with another epoch ignores it. */
  epoch: RegionEpoch;
  /** The leader the step is meant for. */
  targetPeer?: Peer;
  changePeer?: { peer: Peer; changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode' };
  transferLeader?: { peer: Peer };
  /** Several peer changes at once through joint consensus (ChangePeerV2). */
  changePeerV2?: {
    changes: { peer: Peer; changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode' }[];
  };
  /** Split at these keys; none: the store picks the middle by size. */
  splitRegion?: { keys: Buffer[] };
  /** Merge this Region (the source) into `target` (src/store/merge_runner.ts). */
  mergeRegion?: { target: Region };
}

/** PD's answer on the heartbeat stream: an instruction, or why a heartbeat was refused. */
export type RegionHeartbeatReply =
  | { kind: 'instruction'; instruction: RegionInstruction }
  | { kind: 'error'; regionId: RegionId; error: PdError };

export type RegionHeartbeatListener = (reply: RegionHeartbeatReply) => void;

type HbStream = grpc.ClientDuplexStream<RegionHeartbeatRequest, RegionHeartbeatResponse__Output>;

export class RegionHeartbeatStream {
  private stream: HbStream | undefined;
  private readonly listeners = new Set<RegionHeartbeatListener>();
  private readonly backoff: Backoff;
  /** No reopen before this time (ms) after a failure. */
  private reopenAt = 0;
  private closed = false;
  /** Heartbeats dropped because no stream was up: for a store's metrics. */
  dropped = 0;

  constructor(private readonly ctx: PdStreamContext) {
    this.backoff = new Backoff({ baseMs: ctx.backoffBaseMs, maxMs: ctx.backoffMaxMs });
  }

  onReply(listener: RegionHeartbeatListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(hb: RegionHeartbeat): void {
    if (this.closed) return;
    const stream = this.stream ?? this.open();
    if (!stream) {
      this.dropped++;
      return;
    }
    stream.write({ ...regionHeartbeatToProto(hb), header: this.ctx.header() });
  }

  close(): void {
    this.closed = true;
    this.drop();
    this.listeners.clear();
  }

  private open(): HbStream | undefined {
    if (Date.now() < this.reopenAt) return undefined;
    let address: string;
    let stream: HbStream;
    try {
      const cur = this.ctx.conn.current();
      address = cur.address;
      stream = cur.client.RegionHeartbeat();
    } catch {
      return undefined;
    }
    this.stream = stream;
    const broken = () => {
      if (this.stream !== stream) return;
      this.drop();
      this.ctx.conn.rotate(address);
      this.reopenAt = Date.now() + this.backoff.next();
    };
    stream.on('data', (res: RegionHeartbeatResponse__Output) => {
      this.backoff.reset();
      const reply = toReply(res, this.ctx);
      if (reply) for (const l of this.listeners) l(reply);
    });
    stream.on('error', broken);
    stream.on('end', broken);
    return stream;
  }

  private drop(): void {
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners('data');
      s.on('error', () => {}); // the cancel's own error
      s.cancel();
    }
  }
}

function toReply(
  res: RegionHeartbeatResponse__Output,
  ctx: PdStreamContext,
): RegionHeartbeatReply | undefined {
  const regionId = uint64ToNumber(res.regionId, 'region id');
  try {
    ctx.checkHeader(res.header);
  } catch (e) {
    return { kind: 'error', regionId, error: e as PdError };
  }
  const i: RegionInstruction = { regionId, epoch: epochFromProto(res.regionEpoch) };
  if (res.targetPeer) i.targetPeer = peerFromProto(res.targetPeer);
  if (res.changePeer?.peer) {
    i.changePeer = {
      peer: peerFromProto(res.changePeer.peer),
      changeType: res.changePeer.changeType,
    };
  }
  if (res.changePeerV2 && res.changePeerV2.changes.length > 0) {
    i.changePeerV2 = {
      changes: res.changePeerV2.changes
        .filter((c) => c.peer)
        .map((c) => ({ peer: peerFromProto(c.peer!), changeType: c.changeType })),
    };
  }
  if (res.transferLeader?.peer) i.transferLeader = { peer: peerFromProto(res.transferLeader.peer) };
  if (res.splitRegion) i.splitRegion = { keys: res.splitRegion.keys.map((k) => Buffer.from(k)) };
  if (res.mergeRegion?.target) i.mergeRegion = { target: regionFromProto(res.mergeRegion.target) };
  const any = i.changePeer || i.changePeerV2 || i.transferLeader || i.splitRegion || i.mergeRegion;
  return any ? { kind: 'instruction', instruction: i } : undefined;
}
