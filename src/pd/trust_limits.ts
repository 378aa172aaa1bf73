// The bounds PD puts on what callers send it. Nothing a caller sends may grow PD's memory
// or disk without a bound, nor put a number into PD's state that a real cluster could not
// reach (a forged term or version of 2^53 - 1 would otherwise block every real report).
// They are documented in the README's PD section; change them together.

/** Registered stores (tombstones included): each is a row in pd.db and in memory. */
export const MAX_STORES = 4096;
/** Labels per store, and the size of each label's key and value (bytes of UTF-8). */
export const MAX_STORE_LABELS = 64;
export const MAX_LABEL_KEY_BYTES = 64;
export const MAX_LABEL_VALUE_BYTES = 128;
/** host:port addresses: a DNS name is at most 253 characters; with brackets and port. */
export const MAX_ADDRESS_CHARS = 261;

/** Peers of one Region; real Regions have 3 or 5 voters and a few learners at most. */
export const MAX_REGION_PEERS = 16;
/** Region boundary keys: the store refuses user keys above 8 KiB (src/store/raw_kv.ts). */
export const MAX_REGION_KEY_BYTES = 8 << 10;
/**
 * Absolute ceilings for Raft terms and epoch components. Real values stay tiny (one
 * election or one split per millisecond would take 50 days to reach 2^32); anything above
 * is a forged or corrupt report.
 */
export const MAX_TERM = 2 ** 32;
export const MAX_EPOCH_COMPONENT = 2 ** 32;
/**
 * How far one heartbeat may move a Region's version or conf_ver beyond the highest value
 * PD knows for the Regions it touches, plus one per second since PD last heard from them:
 * every split, merge or membership change is one Raft entry the leader had to commit and
 * apply, so a Region PD hears from every few seconds moves by a handful at a time, and one
 * that changed a lot while PD was not listening is accepted once enough time has passed.
 */
export const EPOCH_STEP_BASE = 64;
export const EPOCH_STEP_PER_SECOND = 1;
/**
 * A reported leader's term gates reports from older terms only while that leader keeps
 * reporting: after this long without a heartbeat from it, any term is accepted again, so
 * a forged huge term cannot lock real leaders out for longer than this.
 */
export const LEADER_TERM_TTL_MS = 30_000;
/**
 * A store that heartbeated within this window is alive: without an authenticated
 * identity its record (address, labels) cannot be changed (stores heartbeat every 2 s).
 */
export const STORE_ALIVE_MS = 20_000;
/**
 * A store's heartbeat time is written to PD's meta store at most this often; every
 * heartbeat updates it in memory. Each write is a synchronous commit (an fsync on PD's
 * event loop, in the way of TSO requests and Region heartbeats). Only a restarted PD
 * reads the persisted time: to it, a store that was alive when PD stopped may look
 * silent up to this much longer than it was, until its next heartbeat (within 2 s); so
 * its record stays locked for at least STORE_ALIVE_MS less this after that heartbeat,
 * and liveness counts silence from PD's start anyway (store_liveness.ts). TiKV's PD
 * likewise keeps store heartbeats in memory and writes a store's meta only now and then.
 */
export const STORE_HEARTBEAT_PERSIST_MS = STORE_ALIVE_MS / 2;
