// The load each Region serves on this store, counted where requests are answered (raw_kv.ts,
// txn_kv.ts) and read by two consumers on their own clocks:
//  - the PD worker, which puts the keys and bytes read and written since the Region's
//    previous report into its heartbeat (TiKV's RegionHeartbeat bytes_read / keys_written
//    ... with its interval); PD turns them into rates and finds hot Regions;
//  - the load split controller (load_split.ts), which takes one window a second: the
//    read requests and bytes served in it and a uniform sample of the keys they touched
//    (TiKV's split_controller.rs samples key ranges of read requests the same way).
//    Writes are not in the window, as in TiKV: a split cannot spread a write load over
//    more stores (every write goes to every replica, and the halves start on the same
//    stores), so splitting a write-hot Region only multiplies Regions, each with its own
//    log entries, messages and applies. Moving the leader or a replica of a write-hot
//    Region is the hot-region scheduler's job (PD), from the heartbeat's written bytes.
// Counting is a few additions per request; the sample is a bounded reservoir, so a Region
// under any load costs at most MAX_WINDOW_SAMPLES keys of memory per window.

/** One request's keys: a point [start, start], or a range [start, end) (end empty: +inf). */
export interface KeyAccess {
  start: Buffer;
  /** undefined for a point access. */
  end?: Buffer;
}

/** Keys and bytes served, as a PD heartbeat carries them. */
export interface FlowCounts {
  readKeys: number;
  readBytes: number;
  writtenKeys: number;
  writtenBytes: number;
}

export interface FlowReport extends FlowCounts {
  /** ms the counts cover (since the previous report of this Region). */
  intervalMs: number;
}

/** One load split window: read requests and bytes served, and sampled accesses. */
export interface LoadWindow {
  requests: number;
  bytes: number;
  samples: KeyAccess[];
}

/** Accesses one Region keeps per load split window (reservoir sampling, Vitter's R). */
export const MAX_WINDOW_SAMPLES = 64;

interface RegionCounters {
  report: FlowCounts;
  reportSinceMs: number;
  requests: number;
  bytes: number;
  /** Requests seen in this window (the reservoir's denominator). */
  seen: number;
  samples: KeyAccess[];
}

function zero(): FlowCounts {
  return { readKeys: 0, readBytes: 0, writtenKeys: 0, writtenBytes: 0 };
}

export class RegionFlow {
  private readonly regions = new Map<number, RegionCounters>();

  constructor(
    private readonly now: () => number = Date.now,
    /** The reservoir's coin; injectable so a simulation stays replayable from its seed. */
    private readonly random: () => number = Math.random,
  ) {}

  /** A read request answered: `keys` keys and `bytes` key + value bytes. */
  onRead(regionId: number, access: KeyAccess, keys: number, bytes: number): void {
    const c = this.counters(regionId);
    c.report.readKeys += keys;
    c.report.readBytes += bytes;
    this.sample(c, access, bytes);
  }

  /** A write request applied: reported to PD, not a load split's concern (see above). */
  onWrite(regionId: number, keys: number, bytes: number): void {
    const c = this.counters(regionId);
    c.report.writtenKeys += keys;
    c.report.writtenBytes += bytes;
  }

  /**
   * The counts since the Region's previous report, and resets them; undefined when less
   * than minIntervalMs passed (a heartbeat sent at once after a leader change carries no
   * flow, so each rate PD computes covers a real stretch of time).
   */
  takeReport(regionId: number, minIntervalMs: number): FlowReport | undefined {
    const now = this.now();
    const c = this.counters(regionId);
    // Whole ms: the clock may be fractional (performance.now), the wire carries integers.
    const intervalMs = Math.round(now - c.reportSinceMs);
    if (intervalMs < Math.max(1, minIntervalMs)) return undefined;
    const out = { ...c.report, intervalMs };
    c.report = zero();
    c.reportSinceMs = now;
    return out;
  }

  /** The load split window of a Region since the previous take, and starts a new one. */
  takeWindow(regionId: number): LoadWindow {
    const c = this.regions.get(regionId);
    if (!c) return { requests: 0, bytes: 0, samples: [] };
    const w = { requests: c.requests, bytes: c.bytes, samples: c.samples };
    c.requests = 0;
    c.bytes = 0;
    c.seen = 0;
    c.samples = [];
    return w;
  }

  /** Regions with counters (the ones that served something since they were forgotten). */
  regionIds(): number[] {
    return [...this.regions.keys()];
  }

  /** Drops the counters of Regions no longer hosted here. */
  retain(hosted: (regionId: number) => boolean): void {
    for (const id of this.regions.keys()) if (!hosted(id)) this.regions.delete(id);
  }

  private counters(regionId: number): RegionCounters {
    let c = this.regions.get(regionId);
    if (!c) {
      c = {
        report: zero(),
        reportSinceMs: this.now(),
        requests: 0,
        bytes: 0,
        seen: 0,
        samples: [],
      };
      this.regions.set(regionId, c);
    }
    return c;
  }

  private sample(c: RegionCounters, access: KeyAccess, bytes: number): void {
    c.requests += 1;
    c.bytes += bytes;
    c.seen += 1;
    if (c.samples.length < MAX_WINDOW_SAMPLES) {
      c.samples.push(access);
      return;
    }
    // Each of the `seen` accesses ends up in the sample with the same probability.
    const j = Math.floor(this.random() * c.seen);
    if (j < MAX_WINDOW_SAMPLES) c.samples[j] = access;
  }
}
