// Length-prefixed binary writer/reader for the Raft command codec. Commands are encoded on
// every write and decoded on every replica's apply, so the format is a flat layout read
// without reflection; varints would save bytes we do not need to save.

export class BinaryWriter {
  private buf: Buffer;
  private off = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf.writeUInt8(v, this.off);
    this.off += 1;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.off);
    this.off += 4;
    return this;
  }

  /** Ids and indexes: integers below 2^53, stored exactly as doubles. */
  num(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.off);
    this.off += 8;
    return this;
  }

  /** Timestamps: the full unsigned 64-bit range. */
  u64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.u32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.off);
    this.off += v.length;
    return this;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}

export class MalformedCommandError extends Error {}

export class BinaryReader {
  private off = 0;
  private readonly buf: Buffer;

  constructor(data: Uint8Array) {
    this.buf = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new MalformedCommandError('truncated command');
  }

  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.off++);
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  num(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.off);
    this.off += 8;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }

  /** A view into the command buffer (no copy). */
  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  done(): boolean {
    return this.off === this.buf.length;
  }
}
