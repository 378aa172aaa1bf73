// gRPC binding of the store-to-store RaftTransport service (inbound side). A message that
// cannot be decoded is dropped and counted, never allowed to take the store down: Raft
// retransmits whatever matters.
import type { RaftMessageBatch__Output } from '../proto-gen/nyx/raft/RaftMessageBatch.js';
import type { RaftTransportHandlers } from '../proto/load.js';
import { decodeEnvelope } from '../store/envelope_codec.js';
import { RaftEnvelope } from '../store/raft_store.js';
import { receiveSnapshot } from '../store/snap_transfer.js';

export interface RaftInbound {
  deliver(env: RaftEnvelope): void;
  malformed(err: Error): void;
  snapDir: string;
}

export function raftTransportHandlers(inbound: RaftInbound): RaftTransportHandlers {
  return {
    Raft: (call, callback) => {
      call.on('data', (batch: RaftMessageBatch__Output) => {
        for (const w of batch.msgs) {
          let env: RaftEnvelope;
          try {
            env = decodeEnvelope(w);
          } catch (e) {
            inbound.malformed(e as Error);
            continue;
          }
          inbound.deliver(env);
        }
      });
      call.on('end', () => callback(null, {}));
      call.on('error', () => undefined);
    },
    Snapshot: (call, callback) =>
      receiveSnapshot(call, callback, inbound.snapDir, (env) => inbound.deliver(env)),
  };
}
