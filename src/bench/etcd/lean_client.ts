// A lean etcd v3 client for the comparison benchmark: node:http2 and hand-framed gRPC
// messages (grpc_wire.ts), one HTTP/2 connection per member, as etcd's Go client keeps
// one connection and multiplexes its calls on it. Each call is one HTTP/2 stream: the
// request headers, one DATA frame, and the answer's DATA and trailers (grpc-status).
// No deadlines per call (a timer per request costs the load generator CPU): a broken
// connection fails every call on it, and the benchmark counts errors by kind.
import http2 from 'node:http2';
import type { KvTarget } from '../target.js';
import {
  decodeRangeValue,
  decodeStatus,
  encodePutRequest,
  encodeRangeRequest,
  encodeStatusRequest,
  unframe,
  type EtcdStatus,
} from './grpc_wire.js';

/** A call that ended with a gRPC status other than OK. */
export class GrpcStatusError extends Error {
  override name = 'GrpcStatusError';
  constructor(
    readonly code: number,
    readonly details: string,
    readonly method: string,
  ) {
    super(`${method}: gRPC status ${code}${details ? ` (${details})` : ''}`);
  }
}

const PUT = '/etcdserverpb.KV/Put';
const RANGE = '/etcdserverpb.KV/Range';
const STATUS = '/etcdserverpb.Maintenance/Status';

/** One connection to one etcd member. */
export class EtcdConnection {
  private session: http2.ClientHttp2Session | undefined;

  /** @param endpoint host:port of the member's client URL (plaintext). */
  constructor(readonly endpoint: string) {}

  private connect(): http2.ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const session = http2.connect(`http://${this.endpoint}`);
    // A failed connection fails its streams; this listener only keeps the process alive.
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  /** One unary call: the framed request out, the one response body back. */
  unary(method: string, framed: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connect().request({
          ':method': 'POST',
          ':path': method,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
      } catch (e) {
        reject(e as Error);
        return;
      }
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const noteStatus = (h: http2.IncomingHttpHeaders) => {
        const s = h['grpc-status'];
        if (s !== undefined) {
          status = String(s);
          message = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      // A trailers-only answer (an error) carries grpc-status in the response headers.
      stream.on('response', noteStatus);
      stream.on('trailers', noteStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => undefined); // the close below reports it
      stream.on('close', () => {
        if (status === undefined) {
          reject(
            new Error(`${method}: stream closed without a gRPC status (code ${stream.rstCode})`),
          );
          return;
        }
        if (status !== '0') {
          reject(new GrpcStatusError(Number(status), message, method));
          return;
        }
        try {
          const bodies = unframe(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
          if (bodies.length !== 1)
            throw new Error(`${method}: ${bodies.length} messages in a unary answer`);
          resolve(bodies[0]!);
        } catch (e) {
          reject(e as Error);
        }
      });
      stream.end(framed);
    });
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.unary(PUT, encodePutRequest(key, value));
  }

  /** A linearizable single-key read; undefined when the key does not exist. */
  async get(key: Uint8Array): Promise<Buffer | undefined> {
    return decodeRangeValue(await this.unary(RANGE, encodeRangeRequest(key)));
  }

  async status(): Promise<EtcdStatus> {
    return decodeStatus(await this.unary(STATUS, encodeStatusRequest()));
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}

/** The members of one cluster, to find the leader and drive it. */
export class EtcdLeanClient {
  readonly members: EtcdConnection[];

  constructor(endpoints: string[]) {
    if (endpoints.length === 0) throw new Error('no etcd endpoints');
    this.members = endpoints.map((e) => new EtcdConnection(e));
  }

  /**
   * The index of the leader: every member answers Status and names the same leader, and
   * one member's own id is that leader. Undefined while there is none or they disagree.
   */
  async leaderIndex(): Promise<number | undefined> {
    const st = await Promise.all(this.members.map((m) => m.status()));
    const leader = st[0]!.leader;
    if (leader === 0n || !st.every((s) => s.leader === leader)) return undefined;
    const i = st.findIndex((s) => s.memberId === leader);
    return i >= 0 ? i : undefined;
  }

  async waitForLeader(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const i = await this.leaderIndex();
        if (i !== undefined) return i;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`etcd did not elect a leader in time${last ? `: ${String(last)}` : ''}`);
  }

  /** The benchmark's view of one member. */
  target(member: number): KvTarget {
    const m = this.members[member];
    if (!m) throw new Error(`no etcd member ${member}`);
    return { put: (k, v) => m.put(k, v), get: (k) => m.get(k) };
  }

  close(): void {
    for (const m of this.members) m.close();
  }
}
