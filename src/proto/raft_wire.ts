// The store-to-store Raft stream's bytes: protobufjs's own encoder and decoder of
// nyx.raft.RaftMessageBatch, without the loader's object conversion around them. The
// loader's serializer runs fromObject (a second copy of every message, enum names looked
// up, each uint64 converted) before encoding, and its deserializer toObject after
// decoding (a third copy, defaults filled in). For a batch of four one-entry appends the
// loader's serializer took 19 µs and its deserializer 22 µs, protobufjs's encode 12 and
// decode 8 µs (docs/performance.md has the whole codec's numbers). Every Raft message of
// every Region pays it twice, so with many Regions it is a cost per write.
//
// What this changes at the boundary, and who copes with it:
//   - enums are numbers both ways: the envelope encoder writes numbers (wireEnum below),
//     and the decoders take a number or a name (the snapshot stream and tests still go
//     through the loader, which speaks names); an unknown value of either kind is refused;
//   - uint64s arrive as `Long`s (WireUint64), as they already did on this stream;
//   - absent message fields read as null, repeated ones as empty arrays, scalars as their
//     zero, proto3 `optional` fields as null when absent: the same as the loader's
//     `defaults: true` output, which the decoders were written against.
// Nothing a peer sends is trusted more for it: the decoders check every value as before.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { RaftMessage } from '../proto-gen/nyx/raft/RaftMessage.js';
import { PROTO_DIR } from './load.js';

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    // Imports (meta.proto) resolve from the proto directory, as the loader's includeDirs do.
    r.resolvePath = (_origin, target) => join(PROTO_DIR, target.split('/').pop()!);
    r.loadSync('raft.proto', { keepCase: false });
    root = r;
  }
  return root;
}

let batchType: protobuf.Type | undefined;

function raftBatchType(): protobuf.Type {
  batchType ??= loadRoot().lookupType('nyx.raft.RaftMessageBatch');
  return batchType;
}

/** The wire form a batch is written from: the envelope encoder's output. */
export interface RaftBatchToWire {
  msgs: RaftMessage[];
  fromStoreId?: number;
}

export function serializeRaftBatch(batch: RaftBatchToWire): Buffer {
  const bytes = raftBatchType().encode(batch).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws on bytes that are not a RaftMessageBatch (gRPC then fails the stream). */
export function deserializeRaftBatch(bytes: Buffer): unknown {
  return raftBatchType().decode(bytes);
}

type EnumName =
  'nyx.raft.MessageType' | 'nyx.raft.EntryType' | 'nyx.raft.HibernateSignal' | 'nyx.meta.PeerRole';

/**
 * The wire number of an enum value, by its name in the .proto (so the numbers are the
 * .proto's, not a copy of them). Throws on a name the .proto does not have: a mistake
 * in a table of this build, found when the table is built.
 */
export function wireEnum(enumName: EnumName, valueName: string): number {
  const n = loadRoot().lookupEnum(enumName).values[valueName];
  if (n === undefined) throw new Error(`${enumName} has no value ${valueName}`);
  return n;
}
