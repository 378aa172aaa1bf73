// Where apply stores a put or delete: raw keys as they are; MVCC rows (lock / write /
// default) at their MVCC layout, from the user key and version the command carries
// (src/store/cmd/command.ts, src/txn/mvcc/key_codec.ts).
import { encodeUserKey, encodeVersionKey } from '../txn/mvcc/key_codec.js';
import type { WriteOp } from './cmd/command.js';

export function storedKey(op: Extract<WriteOp, { op: 'put' | 'delete' }>): Buffer {
  switch (op.cf) {
    case 'raw':
      return op.key;
    case 'lock':
      if (op.ts !== undefined) throw new Error('a lock row has no version');
      return encodeUserKey(op.key);
    case 'write':
    case 'default':
      if (op.ts === undefined) throw new Error(`a ${op.cf} row needs a version`);
      return encodeVersionKey(op.key, op.ts);
  }
}
