// Region snapshots between stores. The Raft Snap message carries only a descriptor of a
// snapshot file (region_snapshot.ts); the file itself follows on a Snapshot stream of its
// own, in chunks, so a large Region never blocks the batched message stream. The receiver
// (SnapshotInbox) admits a stream only for a Region that expects a snapshot, bounds it,
// verifies the file, keeps it under snap/, and only then steps the message into Raft,
// rewritten to name the local copy.
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { failpoint } from '../common/failpoint.js';
import { Message, SnapshotStatus } from '../raft/index.js';
import type { SnapshotChunk__Output } from '../proto-gen/nyx/raft/SnapshotChunk.js';
import type { Done } from '../proto-gen/nyx/raft/Done.js';
import type { RaftTransportClient } from '../proto/load.js';
import { SnapshotInvalidError } from '../storage/errors.js';
import {
  SnapshotDescriptor,
  SnapshotFileWriter,
  decodeSnapshotDescriptor,
  encodeSnapshotDescriptor,
  readSnapshotChunks,
  readSnapshotFileState,
} from '../storage/region_snapshot.js';
import { fsyncDir, unlinkIfExists } from '../storage/paths.js';
import type { Refusal } from './message_validator.js';
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
    // A receiver that has the snapshot's index committed already (it installed this
    // snapshot's data before a crash, say) refuses it as not needed: report it finished,
    // so the leader probes from the snapshot's index on instead of starting over from
    // match + 1 — which, below the compacted log, would only make another snapshot.
    const notNeeded = err !== null && /snapshot-not-needed/.test(err.message);
    report(err && !notNeeded ? SnapshotStatus.Failure : SnapshotStatus.Finish, err ?? undefined);
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

/** Bounds on what snapshot streams may hold on this store's disk (issue 7, finding 4). */
export interface SnapshotLimits {
  /** The largest snapshot accepted, by its declared size; larger ones are refused up front. */
  maxSnapshotBytes: number;
  /** Streams received at once from one sending store. */
  maxInFlightPerStore: number;
  /** Streams received at once in all. */
  maxInFlight: number;
  /** A stream that sends nothing for this long is cut off and its file removed. */
  idleTimeoutMs: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  // Regions are not split by size yet, so a Region's file has no natural bound; this one
  // keeps a forged declaration from reserving the disk while admitting any real Region of
  // a test or small deployment. Disk use by snapshots is at most maxInFlight times this.
  maxSnapshotBytes: 4 * 2 ** 30,
  maxInFlightPerStore: 2,
  maxInFlight: 8,
  idleTimeoutMs: 30_000,
};

/** What the inbox needs of the store that receives the snapshots. */
export interface SnapshotTarget {
  /** Would the store take this snapshot message now? (message_validator.ts) */
  check(env: RaftEnvelope): Refusal | undefined;
  /** Whether the disk has room for a file of this many bytes (disk_usage.ts). */
  roomFor?(bytes: number): boolean;
  /** Step the message of a received and verified file; why it was not taken, if it was not. */
  deliver(env: RaftEnvelope): Refusal | undefined;
  /** A snapshot was refused (for metrics and logs); env is absent if its header did not decode. */
  refused(refusal: Refusal, env?: RaftEnvelope): void;
}

/** Remove everything a previous run left in snap/: nothing in it is needed after a restart. */
export function cleanSnapDir(snapDir: string): number {
  // A received snapshot is installed (renamed into regions/) before the Raft log records
  // it, and a snapshot being sent is regenerated when Raft asks again: a file here after
  // a restart is a transfer that did not finish, or one that was never needed.
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(snapDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  for (const n of names) {
    fs.rmSync(path.join(snapDir, n), { recursive: true, force: true });
    removed++;
  }
  if (removed > 0) fsyncDir(snapDir);
  return removed;
}

/**
 * The receiving side of snapshot streams. A snapshot is accepted only for a Region that
 * expects one (the validator's checks on the header, before any byte is written), only
 * up to its declared size, which is bounded, and only while few streams are in flight
 * per sending store and in all. The file is verified (size, checksum, a whole Region
 * database at the index and term of the Raft metadata, holding this peer) before the
 * message is stepped. Whatever is refused is removed from disk and reported to the
 * sender as the stream's error status, which the sender reports to Raft as a failure.
 */
export class SnapshotInbox {
  private readonly perStore = new Map<number, number>();
  private total = 0;
  private seq = 0;
  /** Per Region, the last file Raft took as its pending snapshot. */
  private readonly pending = new Map<number, string>();

  constructor(
    readonly snapDir: string,
    private readonly target: SnapshotTarget,
    private readonly limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
  ) {}

  /** Streams being received now (for tests and /status). */
  get inFlight(): number {
    return this.total;
  }

  /** sender: the store the caller's certificate names (mutual TLS); the header must match. */
  receive(
    call: grpc.ServerReadableStream<SnapshotChunk__Output, Done>,
    callback: grpc.sendUnaryData<Done>,
    sender?: number,
  ): void {
    let env: RaftEnvelope | undefined;
    let declared: SnapshotDescriptor | undefined;
    let writer: SnapshotFileWriter | undefined;
    let written = 0;
    let slotOf: number | undefined;
    let over = false;
    const idle = setTimeout(
      () =>
        fail(grpc.status.DEADLINE_EXCEEDED, {
          reason: 'snapshot-idle',
          detail: `no data for ${this.limits.idleTimeoutMs} ms`,
        }),
      this.limits.idleTimeoutMs,
    );
    idle.unref?.();
    const release = () => {
      over = true;
      clearTimeout(idle);
      if (slotOf === undefined) return;
      this.total--;
      const n = (this.perStore.get(slotOf) ?? 1) - 1;
      if (n === 0) this.perStore.delete(slotOf);
      else this.perStore.set(slotOf, n);
      slotOf = undefined;
    };
    const fail = (code: grpc.status, refusal: Refusal) => {
      if (over) return;
      release();
      writer?.abort();
      this.target.refused(refusal, env);
      callback({ code, message: `snapshot refused (${refusal.reason}): ${refusal.detail}` });
    };

    const onHeader = (chunk: SnapshotChunk__Output) => {
      try {
        env = decodeEnvelope(chunk.header!);
      } catch (e) {
        return fail(grpc.status.INVALID_ARGUMENT, {
          reason: 'decode',
          detail: (e as Error).message,
        });
      }
      if (sender !== undefined && env.fromPeer.storeId !== sender)
        return fail(grpc.status.PERMISSION_DENIED, {
          reason: 'stream-store',
          detail: `a snapshot from store ${env.fromPeer.storeId} sent with the certificate of store ${sender}`,
        });
      const refusal = this.target.check(env);
      if (refusal) return fail(grpc.status.INVALID_ARGUMENT, refusal);
      // The validator decoded the descriptor already; this cannot throw for a checked one.
      declared = decodeSnapshotDescriptor(env.message.snapshot!.data);
      if (declared.size > this.limits.maxSnapshotBytes)
        return fail(grpc.status.RESOURCE_EXHAUSTED, {
          reason: 'snapshot-too-large',
          detail: `${declared.size} bytes, the limit is ${this.limits.maxSnapshotBytes}`,
        });
      // A store whose disk is (almost) gone lags rather than fill it: the leader sends the
      // snapshot again later (Raft asks again after a failure report).
      if (this.target.roomFor && !this.target.roomFor(declared.size))
        return fail(grpc.status.RESOURCE_EXHAUSTED, {
          reason: 'disk-full',
          detail: `no room on this store's disk for a snapshot of ${declared.size} bytes`,
        });
      const from = env.fromPeer.storeId;
      const fromStore = this.perStore.get(from) ?? 0;
      if (fromStore >= this.limits.maxInFlightPerStore || this.total >= this.limits.maxInFlight)
        return fail(grpc.status.RESOURCE_EXHAUSTED, {
          reason: 'snapshot-busy',
          detail: `${fromStore} snapshots in flight from store ${from}, ${this.total} in all`,
        });
      this.perStore.set(from, fromStore + 1);
      this.total++;
      slotOf = from;
      // Our own name for the file: nothing the sender says becomes a path here.
      const md = env.message.snapshot!.metadata;
      writer = new SnapshotFileWriter(
        this.snapDir,
        `recv-${env.regionId}-${md.index}-${md.term}-${process.pid}-${++this.seq}.sqlite`,
      );
    };

    call.on('data', (chunk: SnapshotChunk__Output) => {
      if (over) return;
      idle.refresh();
      try {
        if (chunk.payload === 'header') {
          if (env) throw new SnapshotInvalidError('second snapshot header');
          onHeader(chunk);
        } else if (chunk.payload === 'data') {
          if (!writer || !declared) throw new SnapshotInvalidError('snapshot data before header');
          const data = chunk.data!;
          written += data.length;
          if (written > declared.size)
            return fail(grpc.status.INVALID_ARGUMENT, {
              reason: 'bad-snapshot',
              detail: `more than the declared ${declared.size} bytes`,
            });
          failpoint('snapshot_receive_mid');
          writer.write(data);
        }
      } catch (e) {
        fail(grpc.status.INVALID_ARGUMENT, {
          reason: 'bad-snapshot',
          detail: (e as Error).message,
        });
      }
    });
    call.on('end', () => {
      if (over) return;
      if (!env || !writer || !declared)
        return fail(grpc.status.INVALID_ARGUMENT, {
          reason: 'bad-snapshot',
          detail: 'empty snapshot stream',
        });
      let local: string;
      try {
        local = writer.finish({ size: declared.size, checksum: declared.checksum });
      } catch (e) {
        return fail(grpc.status.INVALID_ARGUMENT, {
          reason: 'bad-snapshot',
          detail: (e as Error).message,
        });
      }
      writer = undefined; // finished: from here on the file is `local`
      const bad = verifyReceivedFile(local, env);
      const message: Message = {
        ...env.message,
        snapshot: {
          metadata: env.message.snapshot!.metadata,
          data: encodeSnapshotDescriptor({ ...declared, name: path.basename(local) }),
        },
      };
      // Re-checked and stepped only now: the Region may have moved on while the file came.
      const refusal = bad ?? this.target.deliver({ ...env, message });
      if (refusal) {
        unlinkIfExists(local);
        return fail(grpc.status.INVALID_ARGUMENT, refusal);
      }
      // Raft holds one pending snapshot per Region: the one it just took replaces any
      // earlier one, whose file (unless the loop installed it meanwhile, moving it out of
      // snap/) is now stale.
      const previous = this.pending.get(env.regionId);
      if (previous !== undefined && previous !== local) unlinkIfExists(previous);
      this.pending.set(env.regionId, local);
      release();
      callback(null, {});
    });
    call.on('error', () => {
      // The sender went away: nothing to answer, only to clean up.
      if (over) return;
      release();
      writer?.abort();
    });
  }
}

/**
 * A received file must be what its message says before Raft hears of it: an SQLite
 * database that passes a quick integrity check, of this Region, at exactly the index and
 * term of the snapshot metadata (the peer asserts this after installing it), with a
 * Region meta that keeps this peer.
 */
function verifyReceivedFile(file: string, env: RaftEnvelope): Refusal | undefined {
  const md = env.message.snapshot!.metadata;
  const bad = (detail: string): Refusal => ({ reason: 'bad-snapshot-file', detail });
  let st;
  try {
    st = readSnapshotFileState(file, env.regionId, { verify: true });
  } catch (e) {
    return bad((e as Error).message);
  }
  if (st.apply.appliedIndex !== md.index || st.apply.appliedTerm !== md.term)
    return bad(
      `file at ${st.apply.appliedIndex}/${st.apply.appliedTerm}, metadata at ${md.index}/${md.term}`,
    );
  if (!st.region) return bad('file without a Region meta');
  const me = env.toPeer;
  if (!st.region.region.peers.some((p) => p.id === me.id && p.storeId === me.storeId))
    return bad(`file of a Region without peer ${me.id} on store ${me.storeId}`);
  return undefined;
}

/** Remove a snapshot file once it was sent or installed. */
export function removeSnapshotFile(snapDir: string, data: Uint8Array): void {
  try {
    unlinkIfExists(path.join(snapDir, decodeSnapshotDescriptor(data).name));
  } catch {
    // not a descriptor we wrote: nothing to remove
  }
}
