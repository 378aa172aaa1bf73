export { Inflights } from './inflights.js';
export { Progress, ProgressState } from './progress.js';
export {
  ProgressTracker,
  cloneTrackerConfig,
  describeConfig,
  emptyTrackerConfig,
  type ProgressMap,
  type TrackerConfig,
} from './tracker.js';
