// The payload of a Normal Raft entry in a Region's log: a batch of writes, stamped with the Region epoch the proposer saw. Apply re-checks the epoch, so a write
// proposed before a split is refused rather than applied to keys the Region no longer owns.
import { RegionEpoch } from '../../region/meta.js';
import { TABLES, Table } from '../../storage/region_schema.js';
import { BinaryReader, BinaryWriter, MalformedCommandError } from './binary.js';

/** A column family: raw KV, or one of Percolator's three MVCC families. */
export type Cf = Table;

export type WriteOp =
  | { op: 'put'; cf: Cf; key: Buffer; value: Buffer }
  | { op: 'delete'; cf: Cf; key: Buffer }
  | { op: 'deleteRange'; cf: Cf; start: Buffer; end: Buffer }
  /** Raw compare-and-swap: put value iff the current value is `previous` (or absent). */
  | { op: 'cas'; cf: Cf; key: Buffer; value: Buffer; previous: Buffer | null };

export interface RaftCommand {
  regionId: number;
  epoch: RegionEpoch;
  writes: WriteOp[];
}

const VERSION = 1;
const OP_CODES = { put: 1, delete: 2, deleteRange: 3, cas: 4 } as const;

export function encodeCommand(cmd: RaftCommand): Buffer {
  const w = new BinaryWriter(64 + cmd.writes.length * 48);
  w.u8(VERSION).num(cmd.regionId).num(cmd.epoch.confVer).num(cmd.epoch.version);
  w.u32(cmd.writes.length);
  for (const op of cmd.writes) {
    w.u8(OP_CODES[op.op]).u8(TABLES.indexOf(op.cf));
    switch (op.op) {
      case 'put':
        w.bytes(op.key).bytes(op.value);
        break;
      case 'delete':
        w.bytes(op.key);
        break;
      case 'deleteRange':
        w.bytes(op.start).bytes(op.end);
        break;
      case 'cas':
        w.bytes(op.key)
          .bytes(op.value)
          .u8(op.previous === null ? 0 : 1);
        if (op.previous !== null) w.bytes(op.previous);
        break;
    }
  }
  return w.finish();
}

export function decodeCommand(data: Uint8Array): RaftCommand {
  const r = new BinaryReader(data);
  if (r.u8() !== VERSION) throw new MalformedCommandError('unknown command version');
  const regionId = r.num();
  const epoch = { confVer: r.num(), version: r.num() };
  const n = r.u32();
  const writes: WriteOp[] = [];
  for (let i = 0; i < n; i++) {
    const code = r.u8();
    const cf = TABLES[r.u8()];
    if (cf === undefined) throw new MalformedCommandError('unknown column family');
    switch (code) {
      case OP_CODES.put:
        writes.push({ op: 'put', cf, key: r.bytes(), value: r.bytes() });
        break;
      case OP_CODES.delete:
        writes.push({ op: 'delete', cf, key: r.bytes() });
        break;
      case OP_CODES.deleteRange:
        writes.push({ op: 'deleteRange', cf, start: r.bytes(), end: r.bytes() });
        break;
      case OP_CODES.cas: {
        const key = r.bytes();
        const value = r.bytes();
        const previous = r.u8() === 1 ? r.bytes() : null;
        writes.push({ op: 'cas', cf, key, value, previous });
        break;
      }
      default:
        throw new MalformedCommandError(`unknown write op ${code}`);
    }
  }
  if (!r.done()) throw new MalformedCommandError('trailing bytes in command');
  return { regionId, epoch, writes };
}
