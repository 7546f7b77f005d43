// A tiny HTTP proxy that holds every request for a fixed time before forwarding it, and counts calls per SES operation.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LatencyProxy {
  url: string;
  /** Requests seen per path, e.g. `/v2/email/outbound-emails`. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export async function startLatencyProxy(target: string, delayMs: number): Promise<LatencyProxy> {
  const counts: Record<string, number> = {};
  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0];
      counts[path] = (counts[path] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, delayMs));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      }
      const out = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(body),
      });
      const text = await out.text();
      const reply: Record<string, string> = { 'content-type': out.headers.get('content-type') ?? 'application/json' };
      const requestId = out.headers.get('x-amzn-requestid');
      if (requestId) reply['x-amzn-requestid'] = requestId;
      res.writeHead(out.status, reply);
      res.end(text);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(err) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
