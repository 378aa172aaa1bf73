// The few etcd v3 messages the comparison benchmark speaks, encoded and decoded by hand:
// a gRPC message is a 5-byte prefix (compressed flag 0, big-endian length) and a protobuf
// body; the bodies here have two or three fields, so a general protobuf library (and
// grpc-js's per-call machinery, 200+ µs of client CPU per request) is not worth its cost
// in a load generator that shares the cores with the servers it measures.
//
// Field numbers are etcd's (api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto); the same
// subset is written out as a .proto in bench/etcd/kv.proto, which the unit test's fake
// server decodes with a real protobuf library.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Bytes of one length-delimited field: tag, length, data. */
function bytesFieldSize(field: number, data: Uint8Array): number {
  return varintSize((field << 3) | WIRE_LEN) + varintSize(data.length) + data.length;
}

function writeBytesField(buf: Buffer, at: number, field: number, data: Uint8Array): number {
  at = writeVarint(buf, at, (field << 3) | WIRE_LEN);
  at = writeVarint(buf, at, data.length);
  buf.set(data, at);
  return at + data.length;
}

/** A gRPC frame around a protobuf body of `bodyLength` bytes; the body starts at 5. */
function frame(bodyLength: number): Buffer {
  const buf = Buffer.allocUnsafe(5 + bodyLength);
  buf[0] = 0; // not compressed
  buf.writeUInt32BE(bodyLength, 1);
  return buf;
}

/** PutRequest{key = 1, value = 2}, framed for gRPC. Empty fields are omitted (proto3). */
export function encodePutRequest(key: Uint8Array, value: Uint8Array): Buffer {
  const size =
    (key.length ? bytesFieldSize(1, key) : 0) + (value.length ? bytesFieldSize(2, value) : 0);
  const buf = frame(size);
  let at = 5;
  if (key.length) at = writeBytesField(buf, at, 1, key);
  if (value.length) at = writeBytesField(buf, at, 2, value);
  if (at !== buf.length) throw new Error(`PutRequest encoded ${at} of ${buf.length} bytes`);
  return buf;
}

/**
 * RangeRequest{key = 1, serializable = 7}, framed. serializable=false (omitted) is a
 * linearizable read: the member confirms its leadership with a quorum (ReadIndex).
 */
export function encodeRangeRequest(key: Uint8Array, serializable = false): Buffer {
  const size = (key.length ? bytesFieldSize(1, key) : 0) + (serializable ? 2 : 0);
  const buf = frame(size);
  let at = 5;
  if (key.length) at = writeBytesField(buf, at, 1, key);
  if (serializable) {
    buf[at++] = (7 << 3) | WIRE_VARINT;
    buf[at++] = 1;
  }
  return buf;
}

/** StatusRequest{}: an empty body. */
export function encodeStatusRequest(): Buffer {
  return frame(0);
}

/** One protobuf field as the reader meets it. */
interface Field {
  field: number;
  /** For varints: the value, exact (uint64 ids exceed 2^53). */
  varint?: bigint;
  /** For length-delimited fields: a view into the message (no copy). */
  bytes?: Buffer;
}

/** Walks the fields of a protobuf message; skips fixed-width ones it does not need. */
function* fields(buf: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated protobuf varint');
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
      if (shift > 63n) throw new Error('protobuf varint longer than 10 bytes');
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    switch (tag & 7) {
      case WIRE_VARINT:
        yield { field, varint: varint() };
        break;
      case WIRE_LEN: {
        const len = Number(varint());
        if (at + len > buf.length) throw new Error('truncated protobuf field');
        yield { field, bytes: buf.subarray(at, at + len) };
        at += len;
        break;
      }
      case WIRE_I64:
        at += 8;
        break;
      case WIRE_I32:
        at += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${tag & 7}`);
    }
  }
}

/** The value of the first KeyValue in a RangeResponse{kvs = 2 {key = 1, value = 5}}. */
export function decodeRangeValue(body: Buffer): Buffer | undefined {
  for (const f of fields(body)) {
    if (f.field !== 2 || !f.bytes) continue;
    for (const kv of fields(f.bytes)) if (kv.field === 5 && kv.bytes) return kv.bytes;
    return Buffer.alloc(0); // a key with an empty value
  }
  return undefined;
}

export interface EtcdStatus {
  /** ResponseHeader.member_id: who answered. */
  memberId: bigint;
  /** The leader's member id, 0n while there is none. */
  leader: bigint;
}

/** StatusResponse{header = 1 {member_id = 2}, leader = 4}. */
export function decodeStatus(body: Buffer): EtcdStatus {
  let memberId = 0n;
  let leader = 0n;
  for (const f of fields(body)) {
    if (f.field === 1 && f.bytes) {
      for (const h of fields(f.bytes))
        if (h.field === 2 && h.varint !== undefined) memberId = h.varint;
    } else if (f.field === 4 && f.varint !== undefined) leader = f.varint;
  }
  return { memberId, leader };
}

/**
 * Cuts gRPC frames out of a response's DATA chunks. Returns the bodies of the complete
 * messages; a compressed one is refused (the client never offers compression).
 */
export function unframe(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 5 > data.length) throw new Error('truncated gRPC frame header');
    if (data[at] !== 0) throw new Error('compressed gRPC message (not negotiated)');
    const len = data.readUInt32BE(at + 1);
    if (at + 5 + len > data.length) throw new Error('truncated gRPC message');
    out.push(data.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return out;
}
