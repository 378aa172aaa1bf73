// The store-to-store Raft transport, outbound side. Messages of every Region bound for the
// same store are gathered during a loop turn and written as ONE RaftMessageBatch on ONE
// long-lived client stream per store (TiKV's batched raft client). A broken stream is
// reopened on the next flush; the messages it lost are reported unreachable so their
// Regions fall back to probing (Raft retransmits, nothing else is needed for safety).
// Snapshot messages do not ride the batch stream: their data is a file sent in chunks on
// a stream of its own (snap_transfer.ts).
//
// Network faults without root or a firewall: the failpoints transport_drop_to_store_<id>
// and transport_delay_to_store_<id> (failpoint_names.ts) act on everything this store
// sends to store <id>. A drop looks to Raft exactly like a lossy network: the message is
// silently lost, and Raft's heartbeats and probes retransmit (it is not reported
// unreachable — a real partition does not announce itself either). A dropped snapshot is
// reported failed, as its broken stream would be, so the leader retries it after the
// partition heals instead of waiting forever. Drops on one side make a one-way
// partition; drops on both sides a full one.
import * as grpc from '@grpc/grpc-js';
import { evalFailpoint, failpointsActive, untilFailpointChanged } from '../common/failpoint.js';
import {
  TransportFailpointName,
  transportDelayFailpoint,
  transportDropFailpoint,
} from '../common/failpoint_names.js';
import { messageStage, trace, tracing } from '../common/trace.js';
import { MessageType } from '../raft/index.js';
import { RaftMessage } from '../proto-gen/nyx/raft/RaftMessage.js';
import { RaftMessageBatch } from '../proto-gen/nyx/raft/RaftMessageBatch.js';
import { RaftTransportClient, newRaftTransportClient } from '../proto/load.js';
import { encodeEnvelope } from './envelope_codec.js';
import { toUint64Number } from '../proto/uint64.js';
import { RaftEnvelope, RaftTransport } from './raft_store.js';

export interface TransportDeps {
  /** The gRPC address of a store (cached by the caller; may ask PD). */
  resolve(storeId: number): Promise<string>;
  reportUnreachable(regionId: number, toPeerId: number): void;
  sendSnapshot(env: RaftEnvelope, client: RaftTransportClient): void;
  /** A snapshot that could not be sent: clean up after it and report it failed to Raft. */
  failSnapshot(env: RaftEnvelope): void;
  onSent?(count: number): void;
  /** This store's id, sent with every batch (the receiver hears we are alive). */
  fromStoreId?: number;
  /** Channel credentials to other stores (mutual TLS); default plaintext. */
  credentials?: grpc.ChannelCredentials;
}

/** A batch stays well below the receiver's message size limit (64 MiB). */
const MAX_BATCH_BYTES = 16 << 20;

/**
 * Above this many bytes written but not yet taken by gRPC (HTTP/2 flow control holds them
 * while the receiver is behind), a store is treated as unreachable until it drains: its
 * messages are dropped and reported unreachable, and Raft probes again later. A deeper
 * queue only makes every message in it late — a heartbeat or a vote that waited seconds
 * is worse than one lost — and costs memory without bound when a peer store stalls.
 */
const MAX_BUFFERED_BYTES = 8 << 20;

class StoreLink {
  client: RaftTransportClient | undefined;
  private stream: grpc.ClientWritableStream<RaftMessageBatch> | undefined;
  address: string | undefined;
  /** The address lookup under way, if any (resolve, then connect). */
  resolving: Promise<void> | undefined;
  /** Bytes written to the current stream that gRPC has not taken yet (estimated, see bySize). */
  private buffered = 0;

  constructor(
    readonly storeId: number,
    private readonly credentials: grpc.ChannelCredentials,
  ) {}

  connect(address: string): void {
    this.close();
    this.address = address;
    this.client = newRaftTransportClient(address, this.credentials, {
      // A peer store that restarts must be reached again within a second, not after
      // grpc's default backoff (growing to 120 s): its Regions cannot elect without us.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.max_send_message_length': 256 << 20,
    });
  }

  /** Write a batch of about `bytes`; false if the link cannot take it now. */
  write(batch: RaftMessageBatch, bytes = 0): boolean {
    if (!this.client) return false;
    if (!this.stream) {
      // When the stream ends (the peer restarted, the network failed) drop the channel
      // too: the next send resolves the store's address again, which may have moved.
      const stream = this.client.Raft(() => {
        if (this.stream === stream) this.close();
      });
      stream.on('error', () => {
        if (this.stream === stream) this.close();
      });
      this.stream = stream;
      this.buffered = 0;
    }
    // One batch always goes when nothing waits, however large (up to MAX_BATCH_BYTES).
    if (this.buffered > 0 && this.buffered + bytes > MAX_BUFFERED_BYTES) return false;
    const stream = this.stream;
    this.buffered += bytes;
    stream.write(batch, () => {
      if (this.stream === stream) this.buffered -= bytes;
    });
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
  private readonly faultNames = new Map<number, StoreFaultNames>();
  private closed = false;

  constructor(private readonly deps: TransportDeps) {}

  send(env: RaftEnvelope): void {
    const storeId = env.toPeer.storeId;
    if (failpointsActive() && this.dropped(storeId)) {
      if (env.message.type === MessageType.Snap) this.deps.failSnapshot(env);
      return;
    }
    if (env.message.type === MessageType.Snap) {
      this.afterDelay(storeId, () => this.sendSnapshot(storeId, env));
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
      this.afterDelay(storeId, () => this.write(storeId, items));
    }
  }

  private sendSnapshot(storeId: number, env: RaftEnvelope): void {
    const link = this.link(storeId);
    if (!link.client) {
      this.deps.failSnapshot(env);
      return;
    }
    this.deps.sendSnapshot(env, link.client);
  }

  /**
   * An empty batch to each store: "this store is alive" for the followers of its sleeping
   * leaders (hibernation.ts). Lost ones are not retried: the next one follows soon.
   */
  sendStoreHeartbeat(storeIds: number[]): void {
    if (this.closed || this.deps.fromStoreId === undefined) return;
    for (const storeId of storeIds) {
      if (failpointsActive() && this.dropped(storeId)) continue;
      this.afterDelay(storeId, () => {
        this.link(storeId).write({ msgs: [], fromStoreId: toUint64Number(this.deps.fromStoreId!) });
      });
    }
  }

  private write(storeId: number, items: { env: RaftEnvelope; wire: RaftMessage }[]): void {
    const link = this.link(storeId);
    const from =
      this.deps.fromStoreId === undefined
        ? {}
        : { fromStoreId: toUint64Number(this.deps.fromStoreId) };
    for (const { chunk, bytes } of bySize(items)) {
      if (tracing) traceSends(chunk);
      if (link.write({ msgs: chunk.map((i) => i.wire), ...from }, bytes)) {
        this.deps.onSent?.(chunk.length);
        continue;
      }
      for (const i of chunk) this.deps.reportUnreachable(i.env.regionId, i.env.toPeer.id);
    }
  }

  /** Whether transport_drop_to_store_<id> drops this message. */
  private dropped(storeId: number): boolean {
    return evalFailpoint(this.names(storeId).drop)?.kind === 'return';
  }

  /**
   * Run `send` now, or later under transport_delay_to_store_<id>: `sleep(ms)` waits ms,
   * `pause` until the failpoint changes. Delayed sends keep their order (equal timers
   * fire in order); Raft tolerates the reordering a change of delay can cause.
   */
  private afterDelay(storeId: number, send: () => void): void {
    const a = failpointsActive() ? evalFailpoint(this.names(storeId).delay) : undefined;
    const later = () => {
      if (!this.closed) send();
    };
    if (a?.kind === 'sleep') setTimeout(later, a.ms);
    else if (a?.kind === 'pause') void untilFailpointChanged(this.names(storeId).delay).then(later);
    else send();
  }

  private names(storeId: number): StoreFaultNames {
    let n = this.faultNames.get(storeId);
    if (!n) {
      n = { drop: transportDropFailpoint(storeId), delay: transportDelayFailpoint(storeId) };
      this.faultNames.set(storeId, n);
    }
    return n;
  }

  /** The link to a store, starting address resolution if it has none yet. */
  private link(storeId: number): StoreLink {
    let link = this.links.get(storeId);
    if (!link) {
      link = new StoreLink(storeId, this.deps.credentials ?? grpc.credentials.createInsecure());
      this.links.set(storeId, link);
    }
    if (!link.client && !link.resolving) {
      const l = link;
      l.resolving = this.deps
        .resolve(storeId)
        .then((addr) => l.connect(addr))
        .catch(() => undefined)
        .finally(() => {
          l.resolving = undefined;
        });
    }
    return link;
  }

  /**
   * Look up and dial these stores now, for a burst of messages that a cold link would
   * lose (the first messages to a store are dropped while its address is looked up):
   * the campaigns of a store's bootstrapped Regions. Resolves when every lookup is done,
   * whether it found the store or not.
   */
  async connect(storeIds: readonly number[]): Promise<void> {
    await Promise.all(storeIds.map((id) => this.link(id).resolving));
  }

  close(): void {
    this.closed = true;
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}

interface StoreFaultNames {
  drop: TransportFailpointName;
  delay: TransportFailpointName;
}

/** Split a store's messages into batches of at most MAX_BATCH_BYTES of entry payload. */
function* bySize<T extends { env: RaftEnvelope }>(
  items: T[],
): Generator<{ chunk: T[]; bytes: number }> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    let size = 64;
    for (const e of item.env.message.entries) size += e.data.length + 16;
    if (chunk.length > 0 && bytes + size > MAX_BATCH_BYTES) {
      yield { chunk, bytes };
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length > 0) yield { chunk, bytes };
}

function traceSends(items: { env: RaftEnvelope }[]): void {
  for (const { env } of items)
    trace(messageStage('send', env.message.type, env.message.entries.length));
}
