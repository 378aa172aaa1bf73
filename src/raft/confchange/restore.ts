// Rebuild a configuration from a ConfState (after a restart or a snapshot) by replaying
// it as changes on an empty config: the outgoing voters first, then a joint change into
// the incoming side, so the same checks guard a restored config as a proposed one.
import { ProgressMap, TrackerConfig, emptyTrackerConfig } from '../tracker/index.js';
import { ConfChangeSingle, ConfChangeType, ConfState } from '../types.js';
import { Changer, ConfChangeResult } from './changer.js';

export function restoreConfig(
  cs: ConfState,
  lastIndex: number,
  maxInflight: number,
  maxInflightBytes: number,
): ConfChangeResult {
  let config: TrackerConfig = emptyTrackerConfig();
  let progress: ProgressMap = new Map();
  const step = (f: (c: Changer) => ConfChangeResult) => {
    ({ config, progress } = f(
      new Changer(config, progress, lastIndex, maxInflight, maxInflightBytes),
    ));
  };
  const adds = (type: ConfChangeType, ids: number[]): ConfChangeSingle[] =>
    ids.map((nodeId) => ({ type, nodeId }));

  if (cs.votersOutgoing.length === 0) {
    // Not joint: add everything one by one as simple changes.
    for (const cc of [
      ...adds(ConfChangeType.AddNode, cs.voters),
      ...adds(ConfChangeType.AddLearnerNode, cs.learners),
    ]) {
      step((c) => c.simple([cc]));
    }
    return { config, progress };
  }
  for (const cc of adds(ConfChangeType.AddNode, cs.votersOutgoing)) step((c) => c.simple([cc]));
  const incoming: ConfChangeSingle[] = [
    ...adds(ConfChangeType.RemoveNode, cs.votersOutgoing),
    ...adds(ConfChangeType.AddNode, cs.voters),
    ...adds(ConfChangeType.AddLearnerNode, cs.learners),
    ...adds(ConfChangeType.AddLearnerNode, cs.learnersNext),
  ];
  step((c) => c.enterJoint(cs.autoLeave, incoming));
  return { config, progress };
}
