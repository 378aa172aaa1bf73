// The disk reserve: what counts as almost full, and the typed refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionError } from '../../src/region/errors.js';
import { DiskStats, DiskUsage } from '../../src/store/disk_usage.js';
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
