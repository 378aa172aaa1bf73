// Region snapshots between stores. The Raft Snap message carries only a descriptor of a
// snapshot file (region_snapshot.ts); the file itself follows on a Snapshot stream of its
// own, in chunks, so a large Region never blocks the batched message stream. The receiver
// checks size and checksum, keeps the file under snap/, and only then steps the message into
// Raft, rewritten to name the local copy.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { failpoint } from '../common/failpoint.js';
import { Message, SnapshotStatus } from '../raft/index.js';
import type { SnapshotChunk__Output } from '../proto-gen/nyx/raft/SnapshotChunk.js';
import type { Done } from '../proto-gen/nyx/raft/Done.js';
import type { RaftTransportClient } from '../proto/load.js';
import {
  SnapshotFileWriter,
  decodeSnapshotDescriptor,
  encodeSnapshotDescriptor,
  readSnapshotChunks,
} from '../storage/region_snapshot.js';
import { unlinkIfExists } from '../storage/paths.js';
import { decodeEnvelope, encodeEnvelope } from './envelope_codec.js';
import { RaftEnvelope } from './raft_store.js';

const CHUNK_BYTES = 1 << 20;

export interface SnapshotDeps {
  snapDir: string;
  reportSnapshot(regionId: number, toPeerId: number, status: SnapshotStatus): void;
  log(obj: object, msg: string): void;
}

/** Stream the snapshot file named by env's Snap message to the peer's store. */
export function sendSnapshot(
  env: RaftEnvelope,
  client: RaftTransportClient,
  deps: SnapshotDeps,
): void {
  const desc = decodeSnapshotDescriptor(env.message.snapshot!.data);
  const file = path.join(deps.snapDir, desc.name);
  const report = (status: SnapshotStatus, err?: Error) => {
    deps.reportSnapshot(env.regionId, env.toPeer.id, status);
    deps.log(
      {
        regionId: env.regionId,
        to: env.toPeer.storeId,
        status,
        err: err?.message,
        bytes: desc.size,
      },
      'snapshot sent',
    );
  };
  let finished = false;
  const call = client.Snapshot({ deadline: Date.now() + 10 * 60_000 }, (err) => {
    if (finished) return;
    finished = true;
    report(err ? SnapshotStatus.Failure : SnapshotStatus.Finish, err ?? undefined);
  });
  call.on('error', () => undefined);
  try {
    call.write({ header: encodeEnvelope(env) });
    for (const chunk of readSnapshotChunks(file, CHUNK_BYTES)) {
      call.write({ data: chunk });
      failpoint('snapshot_send_mid');
    }
    call.end();
  } catch (e) {
    call.cancel();
    if (!finished) {
      finished = true;
      report(SnapshotStatus.Failure, e as Error);
    }
  }
}

/**
 * Receive a snapshot stream; when the file is complete and verified, hand the rewritten
 * message to `deliver`. A broken or invalid stream leaves nothing behind.
 */
export function receiveSnapshot(
  call: grpc.ServerReadableStream<SnapshotChunk__Output, Done>,
  callback: grpc.sendUnaryData<Done>,
  snapDir: string,
  deliver: (env: RaftEnvelope) => void,
): void {
  let env: RaftEnvelope | undefined;
  let writer: SnapshotFileWriter | undefined;
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    writer?.abort();
    callback({ code: grpc.status.INVALID_ARGUMENT, message: err.message });
  };
  call.on('data', (chunk: SnapshotChunk__Output) => {
    if (failed) return;
    try {
      if (chunk.payload === 'header') {
        if (env) throw new Error('second snapshot header');
        env = decodeEnvelope(chunk.header!);
        const desc = decodeSnapshotDescriptor(env.message.snapshot?.data ?? new Uint8Array());
        writer = new SnapshotFileWriter(snapDir, `recv-${env.toPeer.storeId}-${desc.name}`);
      } else if (chunk.payload === 'data') {
        if (!writer) throw new Error('snapshot data before header');
        failpoint('snapshot_receive_mid');
        writer.write(chunk.data!);
      }
    } catch (e) {
      fail(e as Error);
    }
  });
  call.on('end', () => {
    if (failed) return;
    try {
      if (!env || !writer) throw new Error('empty snapshot stream');
      const desc = decodeSnapshotDescriptor(env.message.snapshot!.data);
      const local = writer.finish({ size: desc.size, checksum: desc.checksum });
      const message: Message = {
        ...env.message,
        snapshot: {
          metadata: env.message.snapshot!.metadata,
          data: encodeSnapshotDescriptor({ ...desc, name: path.basename(local) }),
        },
      };
      deliver({ ...env, message });
      callback(null, {});
    } catch (e) {
      fail(e as Error);
    }
  });
  call.on('error', () => {
    failed = true;
    writer?.abort();
  });
}

/** Remove a snapshot file once it was sent or installed. */
export function removeSnapshotFile(snapDir: string, data: Uint8Array): void {
  try {
    unlinkIfExists(path.join(snapDir, decodeSnapshotDescriptor(data).name));
  } catch {
    // not a descriptor we wrote: nothing to remove
  }
}
