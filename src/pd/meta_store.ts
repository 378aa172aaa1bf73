// PD's durable metadata: one SQLite database, <data-dir>/pd.db. Everything PD must not
// forget across a restart lives here: the cluster id and whether it is bootstrapped,
// the stores, the Region map, and the two high-water marks that keep ids and timestamps
// from ever repeating (the id allocator's batch end, the TSO window's upper bound).
// Volatile facts (Region leaders, store stats) are rebuilt from heartbeats instead.
//
// Durability: WAL with synchronous=FULL, so every committed transaction is fsynced
// before the call returns; the id and TSO allocators rely on that ("persist, then serve").

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { failpoint } from '../common/failpoint.js';
import { PeerRole, type Peer, type Region, type RegionId } from '../region/meta.js';
import type { ConfigEntry, ConfigPersistence } from './config/pd_config.js';
import type { RaftTiming } from './raft_timing.js';
import type { GcSafePointStore, ServiceSafePoint } from './gc/safe_point.js';
import type { SchedulerPersistence, SchedulerRecord } from './schedule/scheduler_registry.js';
import { StoreState, type StoreLabel, type StoreMeta } from './types.js';

export const PD_DB_FILE = 'pd.db';
// 2: the config table (PD settings changed from their defaults).
// 3: the schedulers table (which schedulers run, and paused until when).
const SCHEMA_VERSION = 3;

const KEY_CLUSTER_ID = 'cluster_id';
const KEY_BOOTSTRAPPED = 'bootstrapped';
const KEY_ID_END = 'id_alloc_end';
const KEY_TSO_UPPER = 'tso_upper_bound_ms';
const KEY_TICK_MS = 'raft_tick_ms';
const KEY_ELECTION_TICKS = 'raft_election_ticks';
const KEY_CONFIG_VERSION = 'config_version';
/** 1 once the scheduler set was saved: an empty table then means "none", not "defaults". */
const KEY_SCHEDULERS_SAVED = 'schedulers_saved';

/** The narrow port the id allocator needs. */
export interface IdEndStore {
  loadIdEnd(): number;
  saveIdEnd(end: number): void;
}

/** The narrow port the TSO allocator needs. */
export interface TsoBoundStore {
  loadTsoUpperBound(): number;
  saveTsoUpperBound(ms: number): void;
}

export interface MetaStoreOptions {
  /** Used only when the database is new; otherwise the stored id wins. */
  clusterId?: number;
}

interface StoreRow {
  id: number;
  address: string;
  status_address: string;
  state: string;
  labels: string;
  last_heartbeat_ms: number;
}

interface RegionRow {
  id: number;
  start_key: Buffer;
  end_key: Buffer;
  conf_ver: number;
  version: number;
  peers: string;
}

/**
 * A cluster id unique enough to stop a store of one cluster from joining another:
 * seconds since the epoch in the high bits, 20 random bits below. It stays under 2^53
 * so it is a plain JS number everywhere (JSON in store.json included).
 */
export function generateClusterId(nowMs: number = Date.now()): number {
  const secs = Math.floor(nowMs / 1000);
  const rand = Math.floor(Math.random() * (1 << 20));
  return secs * (1 << 20) + rand;
}

/** Peers are stored as compact JSON triples [id, storeId, role code]. */
const ROLE_CODES: Record<PeerRole, string> = {
  [PeerRole.Voter]: 'V',
  [PeerRole.Learner]: 'L',
  [PeerRole.IncomingVoter]: 'I',
  [PeerRole.DemotingVoter]: 'D',
};
const ROLE_OF_CODE = new Map(Object.entries(ROLE_CODES).map(([r, c]) => [c, r as PeerRole]));

export function encodePeers(peers: Peer[]): string {
  return JSON.stringify(peers.map((p) => [p.id, p.storeId, ROLE_CODES[p.role]]));
}

export function decodePeers(s: string): Peer[] {
  const raw = JSON.parse(s) as [number, number, string][];
  return raw.map(([id, storeId, r]) => ({
    id,
    storeId,
    role: ROLE_OF_CODE.get(r) ?? PeerRole.Voter,
  }));
}

export class PdMetaStore
  implements IdEndStore, TsoBoundStore, ConfigPersistence, GcSafePointStore, SchedulerPersistence
{
  private readonly db: Database.Database;
  /** Prepared statements, compiled once: heartbeats and the TSO write on hot paths. */
  private readonly stmts = new Map<string, Database.Statement>();
  readonly clusterId: number;

  private constructor(db: Database.Database, opts: MetaStoreOptions) {
    this.db = db;
    this.migrate();
    const existing = this.getMeta(KEY_CLUSTER_ID);
    if (existing !== undefined) {
      this.clusterId = existing;
    } else {
      this.clusterId = opts.clusterId ?? generateClusterId();
      this.setMeta(KEY_CLUSTER_ID, this.clusterId);
    }
  }

  /** Opens (creating if needed) <dataDir>/pd.db. */
  static open(dataDir: string, opts: MetaStoreOptions = {}): PdMetaStore {
    fs.mkdirSync(dataDir, { recursive: true });
    const db = new Database(path.join(dataDir, PD_DB_FILE));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    return new PdMetaStore(db, opts);
  }

  close(): void {
    this.db.close();
  }

  /** Runs fn in one SQLite transaction: all of its writes land together or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- cluster ---

  isBootstrapped(): boolean {
    return this.getMeta(KEY_BOOTSTRAPPED) === 1;
  }

  /** Persists the initial Regions and the bootstrapped flag atomically. */
  saveBootstrap(regions: Region[]): void {
    this.transaction(() => {
      for (const r of regions) this.putRegion(r);
      this.setMeta(KEY_BOOTSTRAPPED, 1);
    });
  }

  // --- allocator high-water marks ---

  loadIdEnd(): number {
    return this.getMeta(KEY_ID_END) ?? 0;
  }

  saveIdEnd(end: number): void {
    this.setMeta(KEY_ID_END, end);
  }

  loadTsoUpperBound(): number {
    return this.getMeta(KEY_TSO_UPPER) ?? 0;
  }

  saveTsoUpperBound(ms: number): void {
    this.setMeta(KEY_TSO_UPPER, ms);
  }

  // --- cluster-wide Raft timing ---

  /** The cluster's Raft timing, once the first store reported it. */
  loadRaftTiming(): RaftTiming | undefined {
    const tickMs = this.getMeta(KEY_TICK_MS);
    const electionTicks = this.getMeta(KEY_ELECTION_TICKS);
    return tickMs === undefined || electionTicks === undefined
      ? undefined
      : { tickMs, electionTicks };
  }

  saveRaftTiming(t: RaftTiming): void {
    this.transaction(() => {
      this.setMeta(KEY_TICK_MS, t.tickMs);
      this.setMeta(KEY_ELECTION_TICKS, t.electionTicks);
    });
  }

  // --- PD configuration (src/pd/config/) ---

  loadConfig(): { entries: ConfigEntry[]; version: number } {
    const rows = this.stmt('SELECT name, value FROM config ORDER BY name').all() as ConfigEntry[];
    return { entries: rows, version: this.getMeta(KEY_CONFIG_VERSION) ?? 0 };
  }

  /** Replaces every stored setting and the version in one transaction. */
  saveConfig(entries: ConfigEntry[], version: number): void {
    this.transaction(() => {
      failpoint('pd_meta_before_write');
      this.stmt('DELETE FROM config').run();
      const insert = this.stmt('INSERT INTO config (name, value) VALUES (?, ?)');
      for (const e of entries) insert.run(e.name, e.value);
      this.setMeta(KEY_CONFIG_VERSION, version);
    });
  }

  // --- schedulers (src/pd/schedule/scheduler_registry.ts) ---

  loadSchedulers(): SchedulerRecord[] | undefined {
    if (this.getMeta(KEY_SCHEDULERS_SAVED) !== 1) return undefined;
    const rows = this.stmt('SELECT name, paused_until_ms FROM schedulers ORDER BY name').all() as {
      name: string;
      paused_until_ms: number;
    }[];
    return rows.map((r) => ({ name: r.name, pausedUntilMs: r.paused_until_ms }));
  }

  /** Replaces the scheduler set in one transaction. */
  saveSchedulers(list: SchedulerRecord[]): void {
    this.transaction(() => {
      failpoint('pd_meta_before_write');
      this.stmt('DELETE FROM schedulers').run();
      const insert = this.stmt('INSERT INTO schedulers (name, paused_until_ms) VALUES (?, ?)');
      for (const r of list) insert.run(r.name, r.pausedUntilMs);
      this.setMeta(KEY_SCHEDULERS_SAVED, 1);
    });
  }

  // --- stores ---

  putStore(s: StoreMeta): void {
    failpoint('pd_meta_before_write');
    this.stmt(
      `INSERT INTO stores (id, address, status_address, state, labels, last_heartbeat_ms)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET address = excluded.address,
           status_address = excluded.status_address, state = excluded.state,
           labels = excluded.labels, last_heartbeat_ms = excluded.last_heartbeat_ms`,
    ).run(s.id, s.address, s.statusAddress, s.state, JSON.stringify(s.labels), s.lastHeartbeatMs);
    failpoint('pd_meta_after_write');
  }

  loadStores(): StoreMeta[] {
    const rows = this.stmt('SELECT * FROM stores ORDER BY id').all() as StoreRow[];
    return rows.map((r) => ({
      id: r.id,
      address: r.address,
      statusAddress: r.status_address,
      state: r.state as StoreState,
      labels: JSON.parse(r.labels) as StoreLabel[],
      lastHeartbeatMs: r.last_heartbeat_ms,
    }));
  }

  // --- regions ---

  putRegion(r: Region): void {
    failpoint('pd_meta_before_write');
    this.stmt(
      `INSERT INTO regions (id, start_key, end_key, conf_ver, version, peers)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET start_key = excluded.start_key,
           end_key = excluded.end_key, conf_ver = excluded.conf_ver,
           version = excluded.version, peers = excluded.peers`,
    ).run(r.id, r.startKey, r.endKey, r.epoch.confVer, r.epoch.version, encodePeers(r.peers));
    failpoint('pd_meta_after_write');
  }

  deleteRegion(id: RegionId): void {
    failpoint('pd_meta_before_write');
    this.stmt('DELETE FROM regions WHERE id = ?').run(id);
    failpoint('pd_meta_after_write');
  }

  loadRegions(): Region[] {
    const rows = this.stmt('SELECT * FROM regions ORDER BY start_key').all() as RegionRow[];
    return rows.map((r) => ({
      id: r.id,
      // Empty keys (-infinity / +infinity) are stored as zero-length BLOBs.
      startKey: Buffer.from(r.start_key),
      endKey: Buffer.from(r.end_key),
      epoch: { confVer: r.conf_ver, version: r.version },
      peers: decodePeers(r.peers),
    }));
  }

  // --- GC safe points (src/pd/gc/safe_point.ts) ---

  loadGcSafePoint(): bigint {
    const row = this.stmt('SELECT value FROM gc_safe_point WHERE id = 1').get() as
      { value: string } | undefined;
    return row ? BigInt(row.value) : 0n;
  }

  saveGcSafePoint(ts: bigint): void {
    failpoint('pd_meta_before_write');
    this.stmt(
      'INSERT INTO gc_safe_point (id, value) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET value = excluded.value',
    ).run(ts.toString());
    failpoint('pd_meta_after_write');
  }

  loadServiceSafePoints(): ServiceSafePoint[] {
    const rows = this.stmt(
      'SELECT service_id, safe_point, expires_at_ms FROM service_safe_points',
    ).all() as { service_id: string; safe_point: string; expires_at_ms: number }[];
    return rows.map((r) => ({
      serviceId: r.service_id,
      safePoint: BigInt(r.safe_point),
      expiresAtMs: r.expires_at_ms,
    }));
  }

  saveServiceSafePoint(s: ServiceSafePoint): void {
    failpoint('pd_meta_before_write');
    this.stmt(
      `INSERT INTO service_safe_points (service_id, safe_point, expires_at_ms) VALUES (?, ?, ?)
         ON CONFLICT(service_id) DO UPDATE SET safe_point = excluded.safe_point,
           expires_at_ms = excluded.expires_at_ms`,
    ).run(s.serviceId, s.safePoint.toString(), s.expiresAtMs);
    failpoint('pd_meta_after_write');
  }

  deleteServiceSafePoint(serviceId: string): void {
    this.stmt('DELETE FROM service_safe_points WHERE service_id = ?').run(serviceId);
  }

  // --- internals ---

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `pd.db schema version ${version} is newer than this binary (${SCHEMA_VERSION})`,
      );
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS stores (
        id                INTEGER PRIMARY KEY,
        address           TEXT NOT NULL,
        status_address    TEXT NOT NULL,
        state             TEXT NOT NULL,
        labels            TEXT NOT NULL,
        last_heartbeat_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS regions (
        id        INTEGER PRIMARY KEY,
        start_key BLOB NOT NULL,
        end_key   BLOB NOT NULL,
        conf_ver  INTEGER NOT NULL,
        version   INTEGER NOT NULL,
        peers     TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS config (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS schedulers (
        name            TEXT PRIMARY KEY,
        paused_until_ms INTEGER NOT NULL
      );
      -- GC (src/pd/gc/safe_point.ts); timestamps are decimal text (a bigint).
      CREATE TABLE IF NOT EXISTS gc_safe_point (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        value TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS service_safe_points (
        service_id    TEXT PRIMARY KEY,
        safe_point    TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }

  private stmt(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  private getMeta(key: string): number | undefined {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: number } | undefined;
    return row?.value;
  }

  private setMeta(key: string, value: number): void {
    failpoint('pd_meta_before_write');
    this.stmt(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
    failpoint('pd_meta_after_write');
  }
}
