// Serving an Express app on a free loopback port, and posting SendBulkEmail bodies to it.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export async function listen(app: Express): Promise<Listening> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Accepted {
  status: number;
  id: string;
  createdAt: string;
  /** ms from sending the request to the whole response read. */
  ms: number;
}

/** POSTs `body` (an object or a ready JSON string) and expects 202 with the envelope. */
export async function postJob(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Accepted> {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: json,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 202) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  const data = (JSON.parse(text) as { data: { id: string; created_at: string } }).data;
  return { status: res.status, id: data.id, createdAt: data.created_at, ms };
}
