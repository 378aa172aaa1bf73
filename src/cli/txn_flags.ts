// The flag that names a transaction held by a store (printed by `nyx txn begin`).
import { Flags } from '@oclif/core';

export const txnFlag = Flags.string({
  description: 'the transaction id that `nyx txn begin` printed',
  env: 'NYX_TXN',
  required: true,
  helpValue: 'id',
});
