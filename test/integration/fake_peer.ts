// A fake peer: a process that is not a store but speaks the store-to-store RaftTransport
// protocol (proto/raft.proto) to a real store, sending whatever it is told to. It builds
// wire messages by hand, so it can say what no real store would (terms beyond the range,
// peers that are not members, garbage entries and snapshots).
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto, type RaftTransportClient } from '../../src/proto/load.js';
import type { RaftMessage } from '../../src/proto-gen/nyx/raft/RaftMessage.js';
import type { Message } from '../../src/proto-gen/nyx/raft/Message.js';
import type { Entry } from '../../src/proto-gen/nyx/raft/Entry.js';
import type { SnapshotChunk } from '../../src/proto-gen/nyx/raft/SnapshotChunk.js';
import type { Peer, RegionEpoch } from '../../src/region/meta.js';

export interface WireHeader {
  regionId: number;
  from: Peer;
  to: Peer;
  epoch: RegionEpoch;
}

/** A wire RaftMessage; numbers are given as strings or numbers and sent as decimal. */
export function wireMessage(
  h: WireHeader,
  m: {
    type: Message['type'];
    term: number | string;
    logTerm?: number | string;
    index?: number | string;
    commit?: number | string;
    entries?: Entry[];
    snapshot?: Message['snapshot'];
    /** Override the message's own from/to (they normally match the header's peers). */
    msgFrom?: number;
    msgTo?: number;
  },
): RaftMessage {
  const peer = (p: Peer) => ({ id: String(p.id), storeId: String(p.storeId), role: p.role });
  return {
    regionId: String(h.regionId),
    fromPeer: peer(h.from),
    toPeer: peer(h.to),
    regionEpoch: { confVer: String(h.epoch.confVer), version: String(h.epoch.version) },
    message: {
      type: m.type,
      to: String(m.msgTo ?? h.to.id),
      from: String(m.msgFrom ?? h.from.id),
      term: String(m.term),
      logTerm: String(m.logTerm ?? 0),
      index: String(m.index ?? 0),
      commit: String(m.commit ?? 0),
      entries: m.entries ?? [],
      snapshot: m.snapshot ?? null,
      reject: false,
      rejectHint: '0',
    },
  };
}

export class FakePeer {
  private readonly client: RaftTransportClient;

  constructor(
    address: string,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const { nyx } = loadNyxProto();
    this.client = new nyx.raft.RaftTransport(address, credentials);
  }

  /** Open a Raft stream, write each batch, end it; resolves once the store closed it. */
  sendBatches(batches: RaftMessage[][]): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.client.Raft((err) => (err ? reject(err) : resolve()));
      for (const msgs of batches) call.write({ msgs });
      call.end();
    });
  }

  send(...msgs: RaftMessage[]): Promise<void> {
    return this.sendBatches([msgs]);
  }

  /**
   * A snapshot stream: the header, then the chunks. With `end: false` the stream is left
   * open (an unfinished transfer). Resolves with the store's answer: null if it took the
   * snapshot, the gRPC error if it refused it.
   */
  snapshot(
    header: RaftMessage,
    chunks: Buffer[],
    opts: { end?: boolean } = {},
  ): { done: Promise<grpc.ServiceError | null>; call: grpc.ClientWritableStream<SnapshotChunk> } {
    let call!: grpc.ClientWritableStream<SnapshotChunk>;
    const done = new Promise<grpc.ServiceError | null>((resolve) => {
      call = this.client.Snapshot((err) => resolve(err ?? null));
      call.on('error', () => undefined);
    });
    call.write({ header });
    for (const data of chunks) call.write({ data });
    if (opts.end !== false) call.end();
    return { done, call };
  }

  close(): void {
    this.client.close();
  }
}
