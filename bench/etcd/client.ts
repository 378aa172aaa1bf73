// A minimal etcd v3 client for the reference benchmark: the hand-written proto in
// kv.proto loaded with @grpc/proto-loader, one gRPC channel per member (grpc-js
// multiplexes concurrent unary calls over that channel's HTTP/2 connection, as etcd's Go
// client does over its one connection), and the KvTarget shape the NyxDB benchmark uses.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { KvTarget } from '../../src/bench/target.js';

/** bench/etcd/kv.proto, found from either the source or the compiled dist/bench/etcd/. */
function protoPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const repo = here.includes(`${path.sep}dist${path.sep}`)
    ? path.resolve(here, '..', '..', '..')
    : path.resolve(here, '..', '..');
  return path.join(repo, 'bench', 'etcd', 'kv.proto');
}

interface Header {
  memberId: string;
}

type Unary<Req, Resp> = (
  req: Req,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, resp?: Resp) => void,
) => grpc.ClientUnaryCall;

interface KvStub extends grpc.Client {
  Put: Unary<{ key: Buffer; value: Buffer }, { header: Header }>;
  Range: Unary<
    { key: Buffer; serializable: boolean },
    { header: Header; kvs: { key: Buffer; value: Buffer }[] }
  >;
}

interface MaintenanceStub extends grpc.Client {
  Status: Unary<object, { header: Header; leader: string; version: string }>;
}

type StubCtor<T> = new (addr: string, creds: grpc.ChannelCredentials) => T;

function load(): { KV: StubCtor<KvStub>; Maintenance: StubCtor<MaintenanceStub> } {
  const def = protoLoader.loadSync(protoPath(), {
    keepCase: false,
    // uint64 member ids as decimal strings: exact, and comparable with ===.
    longs: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    etcdserverpb: { KV: StubCtor<KvStub>; Maintenance: StubCtor<MaintenanceStub> };
  };
  return pkg.etcdserverpb;
}

function call<Req, Resp>(
  stub: grpc.Client,
  f: Unary<Req, Resp>,
  req: Req,
  timeoutMs: number,
): Promise<Resp> {
  return new Promise((resolve, reject) => {
    f.call(stub, req, { deadline: Date.now() + timeoutMs }, (err, resp) =>
      err ? reject(err) : resolve(resp!),
    );
  });
}

export class EtcdClient {
  private readonly kv: KvStub[];
  private readonly maint: MaintenanceStub[];

  constructor(
    readonly endpoints: string[],
    private readonly timeoutMs = 10_000,
  ) {
    const { KV, Maintenance } = load();
    const creds = grpc.credentials.createInsecure();
    this.kv = endpoints.map((e) => new KV(e, creds));
    this.maint = endpoints.map((e) => new Maintenance(e, creds));
  }

  /**
   * The index of the leader among the endpoints: every member answers Status, and the
   * member whose own id is the leader id they report. Undefined while there is none.
   */
  async leaderIndex(): Promise<number | undefined> {
    const st = await Promise.all(this.maint.map((m) => call(m, m.Status, {}, 2_000)));
    const leader = st[0]!.leader;
    if (leader === '0' || !st.every((s) => s.leader === leader)) return undefined;
    const i = st.findIndex((s) => s.header.memberId === leader);
    return i >= 0 ? i : undefined;
  }

  /** Waits until every member answers and they agree on a leader; returns its index. */
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

  /** The benchmark's view of one member: single-key Put and linearizable Range. */
  target(member: number): KvTarget {
    const kv = this.kv[member]!;
    const timeout = this.timeoutMs;
    return {
      put: (key, value) => call(kv, kv.Put, { key, value }, timeout),
      get: async (key) => {
        const r = await call(kv, kv.Range, { key, serializable: false }, timeout);
        return r.kvs[0]?.value;
      },
    };
  }

  close(): void {
    for (const c of [...this.kv, ...this.maint]) c.close();
  }
}
