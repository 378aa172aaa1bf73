export { Changer, ConfChangeError, checkInvariants, type ConfChangeResult } from './changer.js';
export { restoreConfig } from './restore.js';
export { decodeConfChange, encodeConfChange, isLeaveJoint, jointKind } from './codec.js';
