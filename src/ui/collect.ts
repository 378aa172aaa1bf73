// The Collector polls the cluster once per refresh and builds a ClusterSnapshot: PD's
// /cluster page (stores, Regions, leaders), PD's /metrics (TSO rate), and every store's
// /status (peers, applied and match indexes) and /metrics (request counters and latency
// histograms). Rates and p99 come from the difference to the previous refresh; events from
// diffing the previous snapshot. Any source that does not answer is shown as such and the
// rest still renders: a dashboard must survive the failures it is there to show.
import * as https from 'node:https';
import { parsePrometheus, type Sample } from './prometheus.js';
import {
  bucketsDelta,
  counterRate,
  histogramBuckets,
  quantile,
  sumSamples,
  type Buckets,
} from './rates.js';
import {
  diffEvents,
  leaderApplied,
  perMinute,
  regionRows,
  storeState,
  type StoreStatusPage,
} from './derive.js';
import type { ClusterEvent, ClusterSnapshot, PdClusterView, StoreRow } from './snapshot.js';

/** GET a URL and resolve with the body; reject on a non-2xx answer or a timeout. */
export type HttpGet = (url: string, timeoutMs: number) => Promise<string>;

export const httpGet: HttpGet = async (url, timeoutMs) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (!res.ok) throw new Error(`${res.status} from ${url}`);
  return body;
};

/**
 * GET over HTTPS with a client certificate: the status ports of a cluster under mutual
 * TLS want the same CA, certificate and key as its gRPC ports.
 */
export function httpsGetWith(tls: { ca: Buffer; cert: Buffer; key: Buffer }): HttpGet {
  return (url, timeoutMs) =>
    new Promise<string>((resolve, reject) => {
      const req = https.get(url, { ...tls, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) reject(new Error(`${code} from ${url}`));
          else resolve(body);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
      req.on('error', reject);
    });
}

export interface CollectorOptions {
  /** PD's gRPC address, shown in the header. */
  pdAddress: string;
  /** PD's HTTP status address, host:port. */
  pdStatusAddress: string;
  get?: HttpGet;
  /** 'https' when the cluster runs mutual TLS (then `get` must present a certificate). */
  scheme?: 'http' | 'https';
  now?: () => number;
  /** Per-request timeout; a refresh waits at most this long for any source. */
  timeoutMs?: number;
  /** Points of history kept per store for sparklines. */
  historyPoints?: number;
  /** Events kept, newest first. */
  maxEvents?: number;
}

const REQUEST_HISTOGRAM = 'nyx_grpc_request_duration_seconds';
const TSO_COUNTER = 'nyx_pd_tso_timestamps_total';
const OPERATORS_COUNTER = 'nyx_pd_operators_total';
const TXN_COMMITTED = 'nyx_txn_committed_total';
const TXN_COMMANDS = 'nyx_txn_commands_total';

/** gRPC methods that read: gets and scans, unary or inside BatchCommands. */
export function isReadMethod(method: string): boolean {
  const m = method.replace(/^Batch\./, '').toLowerCase();
  return /get|scan/.test(m) && !/put|delete|cas|compareandswap|prewrite|commit/.test(m);
}

interface StoreScrape {
  atMs: number;
  reads: number;
  writes: number;
  /** Transactions committed (as leader of their primary) and write conflicts met. */
  commits: number;
  conflicts: number;
  buckets: Buckets;
}

export class Collector {
  private readonly get: HttpGet;
  private readonly scheme: 'http' | 'https';
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly historyPoints: number;
  private readonly maxEvents: number;
  private prev: ClusterSnapshot | undefined;
  private lastView: PdClusterView | undefined;
  private prevPd: { atMs: number; tso: number; operators: number } | undefined;
  private readonly prevScrape = new Map<number, StoreScrape>();
  private prevApplied: { atMs: number; applied: Map<number, number> } | undefined;
  private readonly history = new Map<number, StoreRow['history']>();
  private events: ClusterEvent[] = [];

  constructor(private readonly opts: CollectorOptions) {
    this.get = opts.get ?? httpGet;
    this.scheme = opts.scheme ?? 'http';
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 800;
    this.historyPoints = opts.historyPoints ?? 180;
    this.maxEvents = opts.maxEvents ?? 200;
  }

  async collect(): Promise<ClusterSnapshot> {
    const atMs = this.now();
    const pdBase = `${this.scheme}://${this.opts.pdStatusAddress}`;
    const [viewRes, pdMetricsRes] = await Promise.allSettled([
      this.get(`${pdBase}/cluster`, this.timeoutMs).then((t) => JSON.parse(t) as PdClusterView),
      this.get(`${pdBase}/metrics`, this.timeoutMs).then(parsePrometheus),
    ]);
    const pdReachable = viewRes.status === 'fulfilled';
    // Without PD, keep showing the last known map: the stores' own pages still answer.
    const view = pdReachable ? viewRes.value : this.lastView;
    if (pdReachable) this.lastView = view;

    const storeMetas = view?.stores.filter((s) => s.state !== 'Tombstone') ?? [];
    const pages = await Promise.all(
      storeMetas.map(async (s) => {
        const base = `${this.scheme}://${s.statusAddress}`;
        const [st, m] = await Promise.allSettled([
          this.get(`${base}/status`, this.timeoutMs).then((t) => JSON.parse(t) as StoreStatusPage),
          this.get(`${base}/metrics`, this.timeoutMs).then(parsePrometheus),
        ]);
        return { meta: s, status: st, metrics: m };
      }),
    );

    const statusByStore = new Map<number, StoreStatusPage>();
    const allBuckets: Buckets[] = [];
    const txnRates: { txnsPerSec: number | null; conflictsPerMin: number | null }[] = [];
    const stores = pages.map(({ meta, status, metrics }): StoreRow => {
      if (status.status === 'fulfilled') statusByStore.set(meta.id, status.value);
      const rates =
        metrics.status === 'fulfilled' ? this.storeRates(meta.id, atMs, metrics.value) : undefined;
      if (rates?.delta) allBuckets.push(rates.delta);
      if (rates) txnRates.push(rates);
      const peers = status.status === 'fulfilled' ? status.value.peers : undefined;
      const failure =
        status.status === 'rejected'
          ? status.reason
          : metrics.status === 'rejected'
            ? metrics.reason
            : undefined;
      const row: StoreRow = {
        id: meta.id,
        address: meta.address,
        statusAddress: meta.statusAddress,
        // PD's own judgement while PD answers; when PD is gone, the age it reported, aged
        // by how long ago it said it, against the settings it reported.
        state:
          pdReachable && meta.liveness
            ? meta.liveness
            : storeState(
                meta.state,
                ageNow(meta.heartbeatAgeMs, view!.nowMs, atMs, pdReachable),
                view!.livenessTimes,
              ),
        heartbeatAgeMs: ageNow(meta.heartbeatAgeMs, view!.nowMs, atMs, pdReachable),
        reachable: failure === undefined,
        error: failure === undefined ? null : describe(failure),
        regions: peers ? peers.length : meta.regionCount,
        leaders: peers ? peers.filter((p) => p.role === 'Leader').length : meta.leaderCount,
        capacityBytes: meta.capacity ?? rates?.capacity ?? null,
        availableBytes: meta.available ?? rates?.available ?? null,
        usedBytes: meta.usedSize ?? rates?.used ?? null,
        readsPerSec: rates?.readsPerSec ?? null,
        writesPerSec: rates?.writesPerSec ?? null,
        p99Ms: rates?.p99Ms ?? null,
        history: { reads: [], writes: [], p99Ms: [] },
      };
      row.history = this.remember(row);
      return row;
    });

    const dtSec = this.prevApplied ? (atMs - this.prevApplied.atMs) / 1000 : 0;
    const regions = view
      ? regionRows(view, statusByStore, this.prevApplied?.applied ?? new Map(), dtSec)
      : [];
    this.prevApplied = { atMs, applied: leaderApplied(regions) };

    let tsoPerSec: number | null = null;
    let operatorsPerMin: number | null = null;
    if (pdMetricsRes.status === 'fulfilled') {
      const tso = sumSamples(pdMetricsRes.value, TSO_COUNTER);
      // Operators that ended (finished, timed out, cancelled, replaced, stale).
      const operators = sumSamples(pdMetricsRes.value, OPERATORS_COUNTER);
      if (this.prevPd) {
        const dt = (atMs - this.prevPd.atMs) / 1000;
        tsoPerSec = counterRate(this.prevPd.tso, tso, dt);
        const perSec = counterRate(this.prevPd.operators, operators, dt);
        operatorsPerMin = perSec === null ? null : perSec * 60;
      }
      this.prevPd = { atMs, tso, operators };
    } else this.prevPd = undefined;

    const merged: Buckets = new Map();
    for (const b of allBuckets) for (const [le, n] of b) merged.set(le, (merged.get(le) ?? 0) + n);
    const p99 = quantile(0.99, merged);
    const sum = (xs: (number | null)[]) =>
      xs.some((x) => x !== null) ? xs.reduce<number>((a, x) => a + (x ?? 0), 0) : null;

    const snapshot: ClusterSnapshot = {
      takenAtMs: atMs,
      pd: {
        address: this.opts.pdAddress,
        statusAddress: this.opts.pdStatusAddress,
        reachable: pdReachable,
        error: pdReachable ? null : describe((viewRes as PromiseRejectedResult).reason),
        clusterId: view?.clusterId ?? null,
        uptimeSec: pdReachable ? viewRes.value.uptimeSec : null,
      },
      totals: {
        storesUp: stores.filter((s) => s.state === 'Up').length,
        storesDisconnected: stores.filter((s) => s.state === 'Disconnected').length,
        storesDown: stores.filter((s) => s.state === 'Down').length,
        regions: regions.length,
        regionsWithoutLeader: view?.regionsWithoutLeader ?? 0,
        underReplicated: view?.underReplicated ?? 0,
        tsoPerSec,
        readsPerSec: sum(stores.map((s) => s.readsPerSec)),
        writesPerSec: sum(stores.map((s) => s.writesPerSec)),
        p99Ms: p99 === null ? null : p99 * 1000,
        txnsPerSec: sum(txnRates.map((r) => r.txnsPerSec)),
        conflictsPerMin: sum(txnRates.map((r) => r.conflictsPerMin)),
        splitsPerMin: 0,
        mergesPerMin: 0,
        operatorsPerMin,
      },
      stores,
      regions,
      events: [],
    };
    const fresh = diffEvents(this.prev, snapshot, atMs);
    this.events = [...fresh.reverse(), ...this.events].slice(0, this.maxEvents);
    snapshot.events = this.events;
    snapshot.totals.splitsPerMin = perMinute(this.events, 'split', atMs);
    snapshot.totals.mergesPerMin = perMinute(this.events, 'merge', atMs);
    this.prev = snapshot;
    return snapshot;
  }

  private storeRates(storeId: number, atMs: number, samples: Sample[]) {
    const count = `${REQUEST_HISTOGRAM}_count`;
    const reads = sumSamples(samples, count, (l) => isReadMethod(l.method ?? ''));
    const writes = sumSamples(samples, count, (l) => !isReadMethod(l.method ?? ''));
    const buckets = histogramBuckets(samples, REQUEST_HISTOGRAM);
    const commits = sumSamples(samples, TXN_COMMITTED);
    const conflicts = sumSamples(samples, TXN_COMMANDS, (l) => l.outcome === 'key_error:conflict');
    const prev = this.prevScrape.get(storeId);
    this.prevScrape.set(storeId, { atMs, reads, writes, commits, conflicts, buckets });
    const gauge = (name: string) => {
      const v = sumSamples(samples, name);
      return v > 0 ? v : null;
    };
    const capacity = gauge('nyx_store_disk_capacity_bytes');
    const available = gauge('nyx_store_disk_available_bytes');
    const base = {
      capacity,
      available,
      used: capacity !== null && available !== null ? capacity - available : null,
    };
    if (!prev)
      return {
        ...base,
        readsPerSec: null,
        writesPerSec: null,
        p99Ms: null,
        txnsPerSec: null,
        conflictsPerMin: null,
        delta: undefined,
      };
    const dt = (atMs - prev.atMs) / 1000;
    const delta = bucketsDelta(prev.buckets, buckets);
    const p99 = quantile(0.99, delta);
    const conflictsPerSec = counterRate(prev.conflicts, conflicts, dt);
    return {
      ...base,
      readsPerSec: counterRate(prev.reads, reads, dt),
      writesPerSec: counterRate(prev.writes, writes, dt),
      txnsPerSec: counterRate(prev.commits, commits, dt),
      conflictsPerMin: conflictsPerSec === null ? null : conflictsPerSec * 60,
      p99Ms: p99 === null ? null : p99 * 1000,
      delta,
    };
  }

  private remember(row: StoreRow): StoreRow['history'] {
    const h = this.history.get(row.id) ?? { reads: [], writes: [], p99Ms: [] };
    const push = (xs: (number | null)[], v: number | null) => {
      xs.push(v);
      if (xs.length > this.historyPoints) xs.shift();
    };
    push(h.reads, row.readsPerSec);
    push(h.writes, row.writesPerSec);
    push(h.p99Ms, row.p99Ms);
    this.history.set(row.id, h);
    return { reads: [...h.reads], writes: [...h.writes], p99Ms: [...h.p99Ms] };
  }
}

/** A heartbeat age PD reported at pdNowMs, as of nowMs (it keeps growing while PD is away). */
function ageNow(age: number | null, pdNowMs: number, nowMs: number, fresh: boolean): number | null {
  if (age === null) return null;
  return fresh ? age : age + Math.max(0, nowMs - pdNowMs);
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.message ?? String(e);
}
