// ConfChange entries travel in the log as bytes. The encoding is a small fixed binary
// layout owned by the core (it must not depend on the wire protocol of any server):
//   u8 version=1 | u8 transition | u16 count | count × (u8 type | f64 nodeId) | u32 ctxLen | ctx
import { invariant } from '../errors.js';
import { ConfChange, ConfChangeTransition, ConfChangeType } from '../types.js';

const TRANSITIONS = [
  ConfChangeTransition.Auto,
  ConfChangeTransition.JointImplicit,
  ConfChangeTransition.JointExplicit,
];
const TYPES = [ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.AddLearnerNode];

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0);
  const buf = new Uint8Array(4 + cc.changes.length * 9 + 4 + ctx.length);
  const view = new DataView(buf.buffer);
  view.setUint8(0, 1);
  view.setUint8(1, TRANSITIONS.indexOf(cc.transition));
  view.setUint16(2, cc.changes.length);
  let off = 4;
  for (const c of cc.changes) {
    view.setUint8(off, TYPES.indexOf(c.type));
    view.setFloat64(off + 1, c.nodeId);
    off += 9;
  }
  view.setUint32(off, ctx.length);
  buf.set(ctx, off + 4);
  return buf;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  invariant(data.length >= 8 && view.getUint8(0) === 1, 'malformed ConfChange entry');
  const transition = TRANSITIONS[view.getUint8(1)];
  invariant(transition !== undefined, 'malformed ConfChange transition');
  const n = view.getUint16(2);
  const changes = [];
  let off = 4;
  for (let i = 0; i < n; i++) {
    const type = TYPES[view.getUint8(off)];
    invariant(type !== undefined, 'malformed ConfChange type');
    changes.push({ type, nodeId: view.getFloat64(off + 1) });
    off += 9;
  }
  const ctxLen = view.getUint32(off);
  const context = data.slice(off + 4, off + 4 + ctxLen);
  return ctxLen > 0 ? { transition, changes, context } : { transition, changes };
}

/** An empty change leaves the joint configuration. */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0;
}

/**
 * Whether the change uses joint consensus, and if so whether the joint config is left
 * automatically: more than one change, or a joint transition asked for explicitly.
 */
export function jointKind(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  const joint = cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1;
  const autoLeave = joint && cc.transition !== ConfChangeTransition.JointExplicit;
  return { joint, autoLeave };
}
