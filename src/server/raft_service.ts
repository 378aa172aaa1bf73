// gRPC binding of the store-to-store RaftTransport service (inbound side). Nothing a peer
// sends may take the store down: a message that cannot be decoded, or that the validator
// refuses (message_validator.ts), is dropped and counted. Raft retransmits whatever matters.
//
// A Raft stream is bound to one sending store: the store named by its first message. Every
// later message on it must come from a peer on that same store (TiKV binds a connection
// to the store its certificate names; in plaintext the store id is the one the sender
// declares; with mutual TLS it is the one its certificate names).
import { messageStage, trace, tracing } from '../common/trace.js';
import type { PeerCertificate } from 'node:tls';
import type { RaftTransportHandlers } from '../proto/load.js';
import { decodeEnvelope, type WireRaftMessageBatch } from '../store/envelope_codec.js';
import { uint64ToNumber } from '../proto/uint64.js';
import type { Channel, Refusal } from '../store/message_validator.js';
import { RaftEnvelope } from '../store/raft_store.js';
import type { SnapshotInbox } from '../store/snap_transfer.js';

export interface RaftInbound {
  /** Validate a message and step it; returns why it was dropped, if it was. */
  deliver(env: RaftEnvelope, channel: Channel): Refusal | undefined;
  /** A message was dropped (for metrics and logs); env is absent if it did not decode. */
  dropped(refusal: Refusal, env?: RaftEnvelope): void;
  snapshots: SnapshotInbox;
  /** A batch arrived from this store: it is alive (hibernation's store liveness). */
  heardFromStore?(storeId: number): void;
  /**
   * The store a call's certificate names (mutual TLS), or undefined in plaintext. With
   * TLS a Raft stream speaks for that store only, whatever its messages declare.
   */
  authenticatedStore?(call: {
    getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate };
  }): number | undefined;
}

export function raftTransportHandlers(inbound: RaftInbound): RaftTransportHandlers {
  return {
    Raft: (call, callback) => {
      // With TLS: the certificate's store (0 for a certificate that names none, which
      // then matches no peer); in plaintext: the store the first message names.
      let streamStore: number | undefined = inbound.authenticatedStore?.(call);
      // Served through raftTransportService (src/proto/load.ts): uint64s arrive as Longs
      // and enums as numbers, which the generated RaftMessageBatch__Output (decimal
      // strings, names) does not describe.
      call.on('data', (batch: WireRaftMessageBatch) => {
        // The stream's store, once known, is alive. A batch may name its store before any
        // message does (a store heartbeat has none); a name that contradicts the stream's
        // store is ignored like a message from the wrong store.
        let declared = 0;
        try {
          declared = uint64ToNumber(batch.fromStoreId, 'store id');
        } catch {
          declared = 0;
        }
        if (declared > 0) streamStore ??= declared;
        if (streamStore !== undefined && (declared === 0 || declared === streamStore))
          inbound.heardFromStore?.(streamStore);
        for (const w of batch.msgs) {
          let env: RaftEnvelope;
          try {
            env = decodeEnvelope(w);
          } catch (e) {
            inbound.dropped({ reason: 'decode', detail: (e as Error).message });
            continue;
          }
          if (tracing) trace(messageStage('recv', env.message.type, env.message.entries.length));
          streamStore ??= env.fromPeer.storeId;
          if (env.fromPeer.storeId !== streamStore) {
            inbound.dropped(
              {
                reason: 'stream-store',
                detail: `a message from store ${env.fromPeer.storeId} on the stream of store ${streamStore}`,
              },
              env,
            );
            continue;
          }
          const refusal = inbound.deliver(env, 'messages');
          if (refusal) inbound.dropped(refusal, env);
        }
      });
      call.on('end', () => callback(null, {}));
      call.on('error', () => undefined);
    },
    Snapshot: (call, callback) =>
      inbound.snapshots.receive(call, callback, inbound.authenticatedStore?.(call)),
  };
}
