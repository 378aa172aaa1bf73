// The disk reserve: what counts as almost full, and the typed refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionError } from '../../src/region/errors.js';
import {
  DiskStats,
  DiskUsage,
  FAR_FROM_RESERVE_BYTES,
  FAR_READING_MS,
  RAFT_WRITE_SLACK_BYTES,
  placeholderBytesFor,
  reserveFor,
  walBudgetBytes,
} from '../../src/store/disk_usage.js';
import { PlaceholderFs, SpacePlaceholder } from '../../src/store/space_placeholder.js';
import { formatSize, parseSize } from '../../src/common/size.js';

const MiB = 1 << 20;

test('the reserve is the smaller of the absolute amount and the share of the disk', () => {
  let stats: DiskStats = { capacityBytes: 16 * MiB, availableBytes: 10 * MiB };
  const d = new DiskUsage(7, () => stats, { reserveBytes: 2 * 2 ** 30, reserveRatio: 0.1 });
  assert.equal(d.almostFull(), false, 'nothing known before the first refresh');
  d.refresh();
  assert.equal(d.reserveBytes(), Math.floor(1.6 * MiB));
  assert.equal(d.almostFull(), false);
  d.checkWrite();
  stats = { capacityBytes: 16 * MiB, availableBytes: 1 * MiB };
  d.refresh();
  assert.equal(d.almostFull(), true);
  assert.throws(
    () => d.checkWrite(),
    (e: unknown) =>
      e instanceof RegionError &&
      e.detail.kind === 'DiskFull' &&
      e.detail.storeId === 7 &&
      e.detail.availableBytes === MiB,
  );
  // Space returns: writes are taken again.
  stats = { capacityBytes: 16 * MiB, availableBytes: 4 * MiB };
  d.refresh();
  d.checkWrite();
  // On a big disk the absolute amount is the reserve.
  stats = { capacityBytes: 2 ** 40, availableBytes: 2 ** 30 };
  d.refresh();
  assert.equal(d.reserveBytes(), 2 * 2 ** 30);
  assert.equal(d.almostFull(), true);
});

test('a failing statfs keeps the last numbers', () => {
  let fail = false;
  const d = new DiskUsage(1, () => {
    if (fail) throw new Error('EIO');
    return { capacityBytes: 100, availableBytes: 1 };
  });
  d.refresh();
  fail = true;
  d.refresh();
  assert.equal(d.availableBytes, 1);
  assert.equal(d.almostFull(), true);
});

/**
 * A filesystem of `capacity` bytes in memory, below DiskUsage and SpacePlaceholder:
 * `others` bytes are used by everything else, files by the placeholder.
 */
class FakeDisk implements PlaceholderFs {
  files = new Map<string, number>();
  others = 0;
  failWrites = false;
  constructor(readonly capacity: number) {}
  get available(): number {
    let used = this.others;
    for (const n of this.files.values()) used += n;
    return Math.max(0, this.capacity - used);
  }
  stats = (): DiskStats => ({ capacityBytes: this.capacity, availableBytes: this.available });
  size(file: string): number | undefined {
    return this.files.get(file);
  }
  write(file: string, bytes: number): void {
    if (this.failWrites || bytes > this.available) {
      this.files.set(file, 0); // a partial file, as a real ENOSPC leaves
      throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    }
    this.files.set(file, bytes);
  }
  remove(file: string): void {
    this.files.delete(file);
  }
}

test('the placeholder is held while there is room and counts as room', () => {
  const disk = new FakeDisk(16 * MiB);
  const reserve = reserveFor(disk.capacity, { reserveBytes: 2 * 2 ** 30, reserveRatio: 0.1 });
  const ph = new SpacePlaceholder('/data', placeholderBytesFor(reserve), disk);
  assert.equal(ph.bytes, Math.floor(reserve * 0.2));
  const d = new DiskUsage(1, disk.stats, undefined, () => 0, ph);
  d.refresh();
  assert.equal(d.placeholderBytes, ph.bytes, 'written at the first refresh');
  assert.equal(disk.files.get(ph.file), ph.bytes);
  // Refusing starts when free space plus the placeholder is below the reserve, i.e.
  // holding the file does not make the store refuse earlier than the reserve says.
  disk.others = disk.capacity - reserve; // free + placeholder = reserve
  d.refresh();
  assert.equal(d.availableBytes, reserve - ph.bytes);
  assert.equal(d.almostFull(), false);
  disk.others += 4096;
  d.refresh();
  assert.equal(d.almostFull(), true);
  assert.equal(d.placeholderBytes, ph.bytes, 'refusing alone does not release it');
});

test('the placeholder is released when the disk is about to run out, and written again when space returns', () => {
  const disk = new FakeDisk(16 * MiB);
  const reserve = reserveFor(disk.capacity, { reserveBytes: 2 * 2 ** 30, reserveRatio: 0.1 });
  const logs: string[] = [];
  const ph = new SpacePlaceholder('/data', placeholderBytesFor(reserve), disk);
  const d = new DiskUsage(
    1,
    disk.stats,
    undefined,
    () => 0,
    ph,
    (_l, _o, m) => logs.push(m),
  );
  d.refresh();
  // Accepted writes (or another program) eat on into the reserve, below half of what
  // is left of it besides the placeholder: the placeholder's bytes are given back.
  disk.others = disk.capacity - ph.bytes - Math.floor((reserve - ph.bytes) / 2) + 1;
  d.refresh();
  assert.equal(d.placeholderBytes, 0);
  assert.equal(disk.files.has(ph.file), false);
  assert.ok(d.availableBytes >= ph.bytes, 'the statfs numbers are read again after release');
  assert.equal(d.almostFull(), true);
  // Space returns, but not yet enough to hold the file and the whole reserve: no flapping.
  disk.others = disk.capacity - reserve - ph.bytes + 4096;
  d.refresh();
  assert.equal(d.placeholderBytes, 0);
  assert.equal(d.almostFull(), false, 'writes are taken again');
  // Enough for both: the file is written again, and the store still has its reserve.
  disk.others = disk.capacity - reserve - ph.bytes;
  d.refresh();
  assert.equal(d.placeholderBytes, ph.bytes);
  assert.equal(d.almostFull(), false);
  assert.ok(logs.some((m) => /released/.test(m)));
});

test('Raft writes wait while they would leave less than the slack, after taking the placeholder', () => {
  const disk = new FakeDisk(16 * MiB);
  const reserve = reserveFor(disk.capacity, { reserveBytes: 2 * 2 ** 30, reserveRatio: 0.1 });
  const ph = new SpacePlaceholder('/data', placeholderBytesFor(reserve), disk);
  let now = 0;
  const logs: string[] = [];
  const d = new DiskUsage(
    1,
    disk.stats,
    undefined,
    () => now,
    ph,
    (_l, _o, m) => logs.push(m),
  );
  d.refresh();
  assert.equal(d.placeholderBytes, ph.bytes);
  // Plenty of room: no placeholder is touched.
  assert.equal(d.roomForRaftWrite(64 << 10), true);
  // Another program leaves 700 KiB, above the line where a refresh gives the placeholder
  // back by itself: 300 KiB of entries need 2 x 300 KiB + the slack. The placeholder goes
  // to them at once, which makes the room.
  const left = 700 * 1024;
  disk.others = disk.capacity - ph.bytes - left;
  now += 1;
  assert.ok(left > (reserve - ph.bytes) / 2);
  assert.equal(d.roomForRaftWrite(300 << 10), true);
  assert.equal(d.placeholderBytes, 0);
  assert.equal(disk.files.has(ph.file), false);
  assert.ok(logs.includes('raft write needs the room'));
  // Nothing left to give: a write that does not fit waits; a small one still goes.
  disk.others = disk.capacity - RAFT_WRITE_SLACK_BYTES - (100 << 10);
  now += 1;
  assert.equal(d.roomForRaftWrite(64 << 10), false);
  assert.equal(d.roomForRaftWrite(50 << 10), true);
  assert.equal(d.roomForRaftWrite(0), true);
  // The statfs numbers are read at most once a millisecond: in the same millisecond a
  // change is not seen, in the next it is.
  disk.others = disk.capacity;
  assert.equal(d.roomForRaftWrite(0), true);
  now += 1;
  assert.equal(d.roomForRaftWrite(0), false);
});

test('a snapshot is built only above the reserve, if it fits, and never takes the placeholder', () => {
  const disk = new FakeDisk(16 * MiB);
  const reserve = reserveFor(disk.capacity, { reserveBytes: 2 * 2 ** 30, reserveRatio: 0.1 });
  const ph = new SpacePlaceholder('/data', placeholderBytesFor(reserve), disk);
  let now = 0;
  const d = new DiskUsage(1, disk.stats, undefined, () => now, ph);
  d.refresh();
  assert.equal(d.roomForSnapshot(MiB), true);
  assert.equal(d.roomForSnapshot(14 * MiB), true);
  assert.equal(d.roomForSnapshot(15 * MiB), false, 'it would take the reserve');
  // Below the reserve (writes are refused): no snapshot either, and the placeholder stays.
  disk.others = disk.capacity - reserve + 4096;
  now += 1;
  assert.equal(d.roomForSnapshot(4096), false);
  assert.equal(d.almostFull(), true);
  assert.equal(d.placeholderBytes, ph.bytes);
});

test('a Raft write that failed for want of space gets the placeholder', () => {
  const disk = new FakeDisk(16 * MiB);
  const ph = new SpacePlaceholder('/data', 300_000, disk);
  const d = new DiskUsage(1, disk.stats, undefined, () => 0, ph);
  d.refresh();
  assert.equal(d.placeholderBytes, 300_000);
  d.writeFailedForSpace();
  assert.equal(d.placeholderBytes, 0);
  assert.equal(disk.files.has(ph.file), false);
  d.writeFailedForSpace(); // nothing more to give: no error
});

test('a placeholder that cannot be written leaves no file and is tried again', () => {
  const disk = new FakeDisk(16 * MiB);
  const ph = new SpacePlaceholder('/data', 300_000, disk);
  disk.failWrites = true;
  assert.equal(ph.acquire(), false);
  assert.equal(disk.files.has(ph.file), false, 'no partial file left');
  disk.failWrites = false;
  assert.equal(ph.acquire(), true);
  // A file of another size (the reserve changed) is replaced, not trusted.
  const other = new SpacePlaceholder('/data', 200_000, disk);
  assert.equal(other.heldBytes, 0);
  assert.equal(disk.files.has(ph.file), false);
  // A disabled placeholder (no reserve) never writes.
  const none = new SpacePlaceholder('/none', 0, disk);
  assert.equal(none.acquire(), false);
  assert.equal(disk.files.has(none.file), false);
});

test('WAL budgets follow the disk: 64 KiB on small disks, 16 MiB from 4 GiB on', () => {
  assert.equal(walBudgetBytes(16 * MiB), 64 << 10);
  assert.equal(walBudgetBytes(32 * MiB), 128 << 10);
  assert.equal(walBudgetBytes(1 << 30), 4 * MiB);
  assert.equal(walBudgetBytes(4 * 2 ** 30), 16 * MiB);
  assert.equal(walBudgetBytes(2 ** 40), 16 * MiB);
  assert.equal(walBudgetBytes(0), 64 << 10);
  assert.equal(walBudgetBytes(100 * MiB) % 4096, 0, 'whole pages');
});

test('a reserve that is not a byte count is refused, not silently none', () => {
  // The default "2GiB" once reached the store as Number("2GiB"), i.e. NaN, and a NaN
  // reserve refused nothing.
  assert.throws(() => reserveFor(16 * MiB, { reserveBytes: NaN, reserveRatio: 0.1 }), /byte count/);
  assert.equal(reserveFor(16 * MiB, { reserveBytes: 0, reserveRatio: 0.1 }), 0);
});

test('sizes parse in binary and decimal units and print back', () => {
  assert.equal(parseSize('64MiB'), 64 * MiB);
  assert.equal(parseSize('2GiB'), 2 * 2 ** 30);
  assert.equal(parseSize('500MB'), 500e6);
  assert.equal(parseSize('1.5KiB'), 1536);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('8 kib'), 8192);
  for (const bad of ['', 'MiB', '-1MiB', '10XB', '1e3', '0x10'])
    assert.throws(() => parseSize(bad), /not a size/, bad);
  assert.equal(formatSize(64 * MiB), '64MiB');
  assert.equal(formatSize(1536), '1.5KiB');
});

test('a reading far above the reserve is trusted for longer; near it, for a millisecond', () => {
  const GiB = 2 ** 30;
  let stats: DiskStats = { capacityBytes: 100 * GiB, availableBytes: 50 * GiB };
  let reads = 0;
  let now = 0;
  const d = new DiskUsage(
    1,
    () => {
      reads++;
      return stats;
    },
    { reserveBytes: 2 * GiB, reserveRatio: 0.1 },
    () => now,
  );
  d.refresh();
  assert.equal(reads, 1);
  // Far from the reserve: no statfs within FAR_READING_MS, then one.
  for (now = 1; now < FAR_READING_MS; now += 7) assert.equal(d.roomForRaftWrite(MiB), true);
  assert.equal(reads, 1);
  stats = { capacityBytes: 100 * GiB, availableBytes: 2 * GiB + FAR_FROM_RESERVE_BYTES - 1 };
  now = FAR_READING_MS;
  d.roomForRaftWrite(MiB);
  assert.equal(reads, 2, 'read again once the far reading is old');
  // Now near the reserve (less than FAR_FROM_RESERVE_BYTES above it): once a millisecond.
  now += 0.5;
  d.roomForRaftWrite(MiB);
  assert.equal(reads, 2);
  now += 0.5;
  d.roomForRaftWrite(MiB);
  assert.equal(reads, 3);
  stats = { capacityBytes: 100 * GiB, availableBytes: GiB };
  now += 1;
  assert.equal(d.almostFull(), false, 'almostFull reads no statfs of its own');
  d.roomForRaftWrite(0);
  assert.equal(d.almostFull(), true);
});
