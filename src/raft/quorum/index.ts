export { MajorityConfig, VoteResult, type AckedIndexer } from './majority.js';
export { JointConfig } from './joint.js';
