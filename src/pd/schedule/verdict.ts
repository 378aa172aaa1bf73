// A checker's or scheduler's judgement of one Region, structured so that the same value
// drives the action (the coordinator submits `plan`) and the explanation (`nyx region
// explain` renders summary and details). Nothing else decides: explain never re-derives.
import type { OperatorPlan } from './plan.js';

export type Outcome =
  /** Looked, and the Region is as it should be. */
  | 'nothing-to-do'
  /** Would hand this plan to the controller now. */
  | 'act'
  /** Would act, but something holds it back (a limit, a running operator, no target). */
  | 'held-back'
  /** The Region is not this one's business now (e.g. unhealthy: the replica checker first). */
  | 'not-eligible'
  /** The scheduler is removed or paused. */
  | 'off';

export interface Verdict {
  /** replica-checker, balance-leader, balance-region. */
  readonly source: string;
  outcome: Outcome;
  /** One line: the facts that decided, then the decision. */
  summary: string;
  /** The numbers behind it (scores, means, which stores were refused and why). */
  details: string[];
  plan?: OperatorPlan;
}

export function verdict(
  source: string,
  outcome: Outcome,
  summary: string,
  details: string[] = [],
  plan?: OperatorPlan,
): Verdict {
  return plan ? { source, outcome, summary, details, plan } : { source, outcome, summary, details };
}
