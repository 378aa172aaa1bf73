// Which schedulers run: `nyx scheduler list|add|remove|pause|resume`. After PD's
// schedulers API: a scheduler is added (runs every schedule-interval), paused until a
// time (PD's "scheduler pause NAME DELAY"), or removed. The set is persisted in pd.db
// before a change is acknowledged, so a PD restart keeps it; a fresh PD starts with
// balance-leader, balance-region and hot-region, PD's defaults. Checkers (the replica checker) are
// not schedulers: they repair, and always run.
import { PdError, PdErrorCode } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import { BALANCE_LEADER } from './balance_leader.js';
import { BALANCE_REGION } from './balance_region.js';
import { HOT_REGION } from './hot_region.js';

export const KNOWN_SCHEDULERS: ReadonlyMap<string, string> = new Map([
  [BALANCE_LEADER, 'spreads Region leaders evenly over the Up stores (leader transfers)'],
  [BALANCE_REGION, 'spreads Region replicas evenly over the Up stores (replica moves)'],
  [
    HOT_REGION,
    'moves leaders (or replicas) of hot Regions off the hottest store, for reads and writes',
  ],
]);

export const DEFAULT_SCHEDULERS: readonly string[] = [BALANCE_LEADER, BALANCE_REGION, HOT_REGION];

/** The longest pause PD accepts (PD caps its delay too); a typo should not mean forever. */
export const MAX_PAUSE_MS = 30 * 24 * 3600 * 1000;

export interface SchedulerRecord {
  name: string;
  /** Wall-clock ms until which it is paused; 0: not paused. */
  pausedUntilMs: number;
}

/** The narrow port the registry needs from the meta store. */
export interface SchedulerPersistence {
  /** undefined: never saved (a fresh PD, which starts with the defaults). */
  loadSchedulers(): SchedulerRecord[] | undefined;
  saveSchedulers(list: SchedulerRecord[]): void;
}

export interface SchedulerView {
  name: string;
  description: string;
  /** running | paused | removed */
  state: 'running' | 'paused' | 'removed';
  pausedUntilMs: number;
}

export class SchedulerRegistry {
  private records: SchedulerRecord[];

  constructor(
    private readonly persistence: SchedulerPersistence,
    private readonly now: () => number,
  ) {
    const loaded = persistence.loadSchedulers();
    this.records = loaded
      ? loaded.filter((r) => KNOWN_SCHEDULERS.has(r.name)).map((r) => ({ ...r }))
      : DEFAULT_SCHEDULERS.map((name) => ({ name, pausedUntilMs: 0 }));
  }

  /** Every known scheduler, added or not, in a stable order. */
  list(): SchedulerView[] {
    return [...KNOWN_SCHEDULERS.keys()].map((name) => this.view(name));
  }

  view(name: string): SchedulerView {
    const description = known(name);
    const r = this.records.find((x) => x.name === name);
    if (!r) return { name, description, state: 'removed', pausedUntilMs: 0 };
    const paused = r.pausedUntilMs > this.now();
    return {
      name,
      description,
      state: paused ? 'paused' : 'running',
      pausedUntilMs: paused ? r.pausedUntilMs : 0,
    };
  }

  /** Added and not paused now. */
  isRunning(name: string): boolean {
    return this.view(name).state === 'running';
  }

  add(name: string): SchedulerView {
    known(name);
    if (this.records.some((r) => r.name === name))
      throw refused(`scheduler ${name} is already added`);
    return this.save([...this.records, { name, pausedUntilMs: 0 }], name);
  }

  remove(name: string): SchedulerView {
    known(name);
    if (!this.records.some((r) => r.name === name))
      throw refused(`scheduler ${name} is not added (nyx scheduler add ${name})`);
    return this.save(
      this.records.filter((r) => r.name !== name),
      name,
    );
  }

  pause(name: string, forMs: number): SchedulerView {
    known(name);
    if (!Number.isSafeInteger(forMs) || forMs <= 0 || forMs > MAX_PAUSE_MS)
      throw refused(`a pause must be longer than 0s and at most ${formatDuration(MAX_PAUSE_MS)}`);
    this.requireAdded(name);
    const until = this.now() + forMs;
    return this.save(
      this.records.map((r) => (r.name === name ? { name, pausedUntilMs: until } : r)),
      name,
    );
  }

  resume(name: string): SchedulerView {
    known(name);
    this.requireAdded(name);
    return this.save(
      this.records.map((r) => (r.name === name ? { name, pausedUntilMs: 0 } : r)),
      name,
    );
  }

  private requireAdded(name: string): void {
    if (!this.records.some((r) => r.name === name))
      throw refused(`scheduler ${name} is not added (nyx scheduler add ${name})`);
  }

  /** Persist, then serve. */
  private save(next: SchedulerRecord[], name: string): SchedulerView {
    this.persistence.saveSchedulers(next);
    this.records = next;
    return this.view(name);
  }
}

function known(name: string): string {
  const d = KNOWN_SCHEDULERS.get(name);
  if (d === undefined)
    throw refused(
      `unknown scheduler ${JSON.stringify(name)} (known: ${[...KNOWN_SCHEDULERS.keys()].join(', ')})`,
    );
  return d;
}

function refused(msg: string): PdError {
  return new PdError(PdErrorCode.InvalidArgument, msg);
}
