// An HTTP proxy in front of the SES emulator that injects SES-shaped faults and records every SendBulkEmail call.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer like SES does when throttling: 429 TooManyRequestsException, nothing forwarded. */
  | { kind: 'throttle' }
  /** Answer an SES error of this name and status, nothing forwarded. */
  | { kind: 'error'; status: number; name: string; message?: string }
  /** Forward all but these positions; give them this per-entry status instead (default TRANSIENT_FAILURE). */
  | { kind: 'entries'; positions: number[]; status?: string }
  /** Forward (so the emulator stores the mail), then cut the connection before answering: outcome unknown. */
  | { kind: 'reset-after' }
  /** Cut the connection without forwarding. */
  | { kind: 'reset-before' }
  /** Forward after a delay. */
  | { kind: 'delay'; ms: number };

export interface ProxyCall {
  n: number;
  at: number;
  entries: number;
  recipients: number;
  /** The first To address of each entry, in call order. */
  to: string[];
  fault?: Fault['kind'];
}

export interface FaultProxy {
  url: string;
  calls: ProxyCall[];
  /** Largest number of recipients the emulator was handed in any 1-second window (faulted calls excluded). */
  maxRecipientsPerSecond(): number;
  close(): Promise<void>;
}

type Entry = { Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] } };
const recipientsOf = (entries: Entry[]) =>
  entries.reduce(
    (n, e) =>
      n +
      (e.Destination?.ToAddresses?.length ?? 0) +
      (e.Destination?.CcAddresses?.length ?? 0) +
      (e.Destination?.BccAddresses?.length ?? 0),
    0,
  );

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function sesError(res: ServerResponse, status: number, name: string, message: string) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${name}:http://internal.amazon.com/`,
    'x-amzn-requestid': 'fault-proxy',
  });
  res.end(JSON.stringify({ message }));
}

/** Forwards a request to the target with the same method, path, headers and (possibly rewritten) body. */
async function forward(
  target: string,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Headers; text: string }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
  }
  const res = await fetch(`${target}${req.url}`, {
    method: req.method,
    headers,
    body: req.method === 'GET' ? undefined : new Uint8Array(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export interface FaultProxyOptions {
  /** Throttle (429) calls beyond this many recipients per second, metered as `meter` says. */
  limitRate?: number;
  /**
   * - `ses` (default): as SES meters — a budget of `limitRate` recipients refilling at `limitRate`/s; a call is
   *   accepted while at least 1 is left, and all its recipients are counted (the budget may go below zero);
   * - `window`: stricter — a call that would take its trailing 1-s window above 1.1 × `limitRate` is throttled.
   */
  meter?: 'ses' | 'window';
}

/** Decides whether a call of `recipients` arriving at `at` (ms) is throttled, and counts it if not. */
function meterFor(rate: number, kind: 'ses' | 'window') {
  const delivered: { at: number; recipients: number }[] = [];
  let budget = rate;
  let last: number | undefined;
  return (at: number, recipients: number): boolean => {
    if (kind === 'window') {
      const inWindow = delivered.filter((d) => d.at > at - 1000).reduce((sum, d) => sum + d.recipients, 0);
      if (inWindow + recipients > rate * 1.1) return true;
      delivered.push({ at, recipients });
      return false;
    }
    budget = Math.min(rate, budget + (last === undefined ? 0 : ((at - last) * rate) / 1000));
    last = at;
    if (budget < 1) return true;
    budget -= recipients;
    return false;
  };
}

/**
 * `decide` sees each SendBulkEmail call (numbered from 1) and may return a fault; every other request passes through.
 * `limitRate`: throttle calls beyond that rate, metered as SES meters (see FaultProxyOptions).
 */
export async function startFaultProxy(
  target: string,
  decide: (call: { n: number; entries: Entry[]; recipients: number }) => Fault | undefined = () => undefined,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const calls: ProxyCall[] = [];
  const delivered: { at: number; recipients: number }[] = [];
  const throttles = options.limitRate === undefined ? undefined : meterFor(options.limitRate, options.meter ?? 'ses');
  let n = 0;

  const server: Server = createServer(async (req, res) => {
    try {
      const raw = await readBody(req);
      if (!(req.method === 'POST' && req.url?.startsWith('/v2/email/outbound-bulk-emails'))) {
        const out = await forward(target, req, raw);
        res.writeHead(out.status, { 'content-type': out.headers.get('content-type') ?? 'application/json' });
        res.end(out.text);
        return;
      }
      const body = JSON.parse(raw.toString()) as { BulkEmailEntries: Entry[] };
      const entries = body.BulkEmailEntries ?? [];
      const recipients = recipientsOf(entries);
      const at = Date.now();
      const to = entries.map((e) => e.Destination?.ToAddresses?.[0] ?? '');
      const call: ProxyCall = { n: ++n, at, entries: entries.length, recipients, to };
      calls.push(call);
      let fault = decide({ n: call.n, entries, recipients });
      if (!fault && throttles?.(at, recipients)) fault = { kind: 'throttle' };
      call.fault = fault?.kind;
      if (fault?.kind === 'throttle')
        return sesError(res, 429, 'TooManyRequestsException', 'Maximum sending rate exceeded.');
      if (fault?.kind === 'error') return sesError(res, fault.status, fault.name, fault.message ?? fault.name);
      if (fault?.kind === 'reset-before') {
        req.socket.destroy();
        return;
      }
      const skip = new Set(fault?.kind === 'entries' ? fault.positions : []);
      const kept = entries.filter((_, i) => !skip.has(i));
      delivered.push({ at, recipients: recipientsOf(kept) });
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      let results: { Status: string; MessageId?: string; Error?: string }[] = [];
      if (kept.length) {
        const out = await forward(target, req, Buffer.from(JSON.stringify({ ...body, BulkEmailEntries: kept })));
        if (out.status !== 200) {
          res.writeHead(out.status, { 'content-type': 'application/json' });
          res.end(out.text);
          return;
        }
        results = (JSON.parse(out.text) as { BulkEmailEntryResults: typeof results }).BulkEmailEntryResults;
      }
      if (fault?.kind === 'reset-after') {
        req.socket.destroy();
        return;
      }
      const merged: typeof results = [];
      let k = 0;
      entries.forEach((_, i) => {
        merged.push(
          skip.has(i)
            ? {
                Status: fault?.kind === 'entries' ? (fault.status ?? 'TRANSIENT_FAILURE') : 'TRANSIENT_FAILURE',
                Error: 'injected',
              }
            : results[k++],
        );
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': `proxy-${call.n}` });
      res.end(JSON.stringify({ BulkEmailEntryResults: merged }));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(err) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    maxRecipientsPerSecond: () => {
      const sorted = [...delivered].sort((a, b) => a.at - b.at);
      let max = 0;
      let start = 0;
      let sum = 0;
      for (let end = 0; end < sorted.length; end++) {
        sum += sorted[end].recipients;
        while (sorted[end].at - sorted[start].at >= 1000) sum -= sorted[start++].recipients;
        max = Math.max(max, sum);
      }
      return max;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
