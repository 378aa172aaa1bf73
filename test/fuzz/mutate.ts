// Mutations of encoded protobuf messages, driven by one seeded generator so a run can be
// replayed: bit flips, random bytes, truncation, insertion, duplicated slices and
// oversized varints (the shapes that broke decoders and range checks before).
import { SimRng } from '../sim/rng.js';

export function mutate(rng: SimRng, msg: Buffer): Buffer {
  let b = Buffer.from(msg);
  const rounds = rng.int(1, 4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : rng.int(0, b.length - 1);
    switch (rng.int(0, 6)) {
      case 0: // flip a bit
        if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(0, 7));
        break;
      case 1: // a random byte
        if (b.length > 0) b[at] = rng.int(0, 255);
        break;
      case 2: // cut the tail
        b = b.subarray(0, at);
        break;
      case 3: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), randomBytes(rng, rng.int(1, 16)), b.subarray(at)]);
        break;
      case 4: {
        // duplicate a slice (repeated fields, nested messages twice)
        const end = Math.min(b.length, at + rng.int(1, 64));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 5: // the largest 64-bit varint in place of a byte (term 2^64-1, counts, ids)
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
          b.subarray(at + 1),
        ]);
        break;
      default: // a huge length prefix
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from([0xff, 0xff, 0xff, 0x7f]),
          b.subarray(at),
        ]);
    }
  }
  return b;
}

function randomBytes(rng: SimRng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(0, 255);
  return out;
}
