// The HTTP status port of every NyxDB process: /health for liveness checks, /status for a
// JSON view of the process, /metrics for Prometheus (prom-client's registry), and
// /failpoints for run-time failpoint control when the process allows it.
import http from 'node:http';
import https from 'node:https';
import type { TlsFiles } from '../common/tls.js';
import { Registry } from 'prom-client';
import { handleFailpointRequest, isFailpointPath } from '../common/failpoint_control.js';

export interface StatusSource {
  /** Whether the process can serve (e.g. registered with PD); false answers 503. */
  healthy(): boolean;
  status(): unknown;
  /** More JSON pages by path (e.g. PD's /cluster), served like /status. */
  pages?: Record<string, () => unknown>;
}

export interface StatusServerOptions {
  /** Whether /failpoints may change failpoints (--allow-failpoints); otherwise it answers 403. */
  allowFailpoints?: boolean;
  /** Serve HTTPS with the process's certificates, demanding a client certificate. */
  tls?: TlsFiles;
}

/** A failpoint action is a short string; a longer body is refused unread. */
const MAX_BODY_BYTES = 4096;

export class StatusServer {
  private server: http.Server | undefined;
  private stopRotation: (() => void) | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly source: StatusSource,
    private readonly options: StatusServerOptions = {},
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) =>
      void this.handle(req, res);
    const t = this.options.tls;
    let server: http.Server;
    if (t) {
      const s = https.createServer(t.httpsOptions(), handler);
      // New connections use rotated certificates (grpc-js does the same for the gRPC port).
      this.stopRotation = t.onChange((m) => s.setSecureContext({ ...m }));
      server = s;
    } else {
      server = http.createServer(handler);
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as { port: number }).port;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (isFailpointPath(path)) {
        const body = await readBody(req);
        if (body === undefined) return send(res, 413, 'text/plain', 'body too large\n');
        const a = handleFailpointRequest(
          req.method ?? 'GET',
          path,
          body,
          this.options.allowFailpoints === true,
        );
        return send(res, a.code, 'application/json', JSON.stringify(a.body) + '\n');
      }
      if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
      switch (path) {
        case '/health': {
          const ok = this.source.healthy();
          return send(res, ok ? 200 : 503, 'application/json', JSON.stringify({ ok }) + '\n');
        }
        case '/status':
          return send(
            res,
            200,
            'application/json',
            JSON.stringify(this.source.status(), jsonBytes, 2) + '\n',
          );
        case '/metrics':
          return send(res, 200, this.registry.contentType, await this.registry.metrics());
        default: {
          const pages = this.source.pages;
          // Own keys only: '/constructor' is not a page.
          const page = pages && Object.hasOwn(pages, path) ? pages[path] : undefined;
          if (page) {
            return send(res, 200, 'application/json', JSON.stringify(page(), jsonBytes) + '\n');
          }
          return send(res, 404, 'text/plain', 'not found: try /health, /status or /metrics\n');
        }
      }
    } catch (e) {
      return send(res, 500, 'text/plain', `${(e as Error).message}\n`);
    }
  }

  async close(): Promise<void> {
    this.stopRotation?.();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function send(res: http.ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type });
  res.end(body);
}

/** The request body as text, or undefined when it is over MAX_BODY_BYTES. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Buffers print as readable keys in JSON. */
function jsonBytes(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('latin1');
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
