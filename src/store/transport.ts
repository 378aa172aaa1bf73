// The store-to-store Raft transport, outbound side. Messages of every Region bound for the
// same store are gathered during a loop turn and written as ONE RaftMessageBatch on ONE
// long-lived client stream per store (TiKV's batched raft client). A broken stream is
// reopened on the next flush; the messages it lost are reported unreachable so their
// Regions fall back to probing (Raft retransmits, nothing else is needed for safety).
// Snapshot messages do not ride the batch stream: their data is a file sent in chunks on
// a stream of its own (snap_sender.ts).
import * as grpc from '@grpc/grpc-js';
import { MessageType } from '../raft/index.js';
import { RaftMessage } from '../proto-gen/nyx/raft/RaftMessage.js';
import { RaftMessageBatch } from '../proto-gen/nyx/raft/RaftMessageBatch.js';
import { RaftTransportClient, loadNyxProto } from '../proto/load.js';
import { encodeEnvelope } from './envelope_codec.js';
import { RaftEnvelope, RaftTransport } from './raft_store.js';

export interface TransportDeps {
  /** The gRPC address of a store (cached by the caller; may ask PD). */
  resolve(storeId: number): Promise<string>;
  reportUnreachable(regionId: number, toPeerId: number): void;
  sendSnapshot(env: RaftEnvelope, client: RaftTransportClient): void;
  onSent?(count: number): void;
}

/** Above this many buffered bytes a store is treated as unreachable until it drains. */
const MAX_BUFFERED_BYTES = 64 << 20;

class StoreLink {
  client: RaftTransportClient | undefined;
  private stream: grpc.ClientWritableStream<RaftMessageBatch> | undefined;
  address: string | undefined;
  resolving = false;

  constructor(readonly storeId: number) {}

  connect(address: string): void {
    this.close();
    this.address = address;
    const { nyx } = loadNyxProto();
    this.client = new nyx.raft.RaftTransport(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.max_send_message_length': 256 << 20,
    });
  }

  /** Write a batch; false if the link cannot take it now. */
  write(batch: RaftMessageBatch): boolean {
    if (!this.client) return false;
    if (!this.stream) {
      const stream = this.client.Raft((err) => {
        // The stream ended (peer restarted, network error): open a new one next time.
        if (this.stream === stream) this.stream = undefined;
        void err;
      });
      stream.on('error', () => {
        if (this.stream === stream) this.stream = undefined;
      });
      this.stream = stream;
    }
    if (this.stream.writableLength > MAX_BUFFERED_BYTES) return false;
    this.stream.write(batch);
    return true;
  }

  close(): void {
    this.stream?.end();
    this.stream = undefined;
    this.client?.close();
    this.client = undefined;
  }
}

export class GrpcRaftTransport implements RaftTransport {
  private readonly links = new Map<number, StoreLink>();
  private pending = new Map<number, { env: RaftEnvelope; wire: RaftMessage }[]>();

  constructor(private readonly deps: TransportDeps) {}

  send(env: RaftEnvelope): void {
    const storeId = env.toPeer.storeId;
    if (env.message.type === MessageType.Snap) {
      const link = this.link(storeId);
      if (!link.client) {
        this.deps.reportUnreachable(env.regionId, env.toPeer.id);
        return;
      }
      this.deps.sendSnapshot(env, link.client);
      return;
    }
    let q = this.pending.get(storeId);
    if (!q) {
      q = [];
      this.pending.set(storeId, q);
    }
    q.push({ env, wire: encodeEnvelope(env) });
  }

  flush(): void {
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    for (const [storeId, items] of pending) {
      const link = this.link(storeId);
      if (link.write({ msgs: items.map((i) => i.wire) })) {
        this.deps.onSent?.(items.length);
        continue;
      }
      for (const i of items) this.deps.reportUnreachable(i.env.regionId, i.env.toPeer.id);
    }
  }

  /** The link to a store, starting address resolution if it has none yet. */
  private link(storeId: number): StoreLink {
    let link = this.links.get(storeId);
    if (!link) {
      link = new StoreLink(storeId);
      this.links.set(storeId, link);
    }
    if (!link.client && !link.resolving) {
      link.resolving = true;
      const l = link;
      this.deps
        .resolve(storeId)
        .then((addr) => l.connect(addr))
        .catch(() => undefined)
        .finally(() => {
          l.resolving = false;
        });
    }
    return link;
  }

  /** A store moved (restarted on another address): reconnect. */
  updateAddress(storeId: number, address: string): void {
    const link = this.links.get(storeId);
    if (link && link.address !== address) link.connect(address);
  }

  close(): void {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
