// Unit tests: one SES call through a real SESv2Client against local servers — SDK retry override, send stage, timeouts, results.

// Unit tests: one SES call through a real SESv2Client against tiny local servers — SDK retries off for that command only,
// the send stage on errors ("never left" vs "unknown"), timeouts, results and attachment bytes.
import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import { GetAccountCommand, SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError, SEND_STAGE } from '../../../src/sending/classify.js';
import { sendTracker } from '../../../src/sending/send-tracker.js';
import { prepareContent, sendBulkEmailCall } from '../../../src/sending/ses-call.js';
import type { IndexedEntry, JobContent } from '../../../src/types.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Local {
  url: string;
  requests: Array<{ url: string; body: string }>;
  close(): Promise<void>;
}

const open: Local[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function local(handler: Handler): Promise<Local> {
  const requests: Local['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', body });
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const s: Local = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => resolve());
      }),
  };
  open.push(s);
  return s;
}

const resetAll: Handler = (req) => req.socket.resetAndDestroy();

function client(endpoint: string, extra: Partial<SESv2ClientConfig> = {}): SESv2Client {
  // SDK defaults otherwise (standard retries, maxAttempts 3), as an app would have.
  return new SESv2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    ...extra,
  });
}

const content: JobContent = {
  FromEmailAddress: 'sender@example.com',
  DefaultContent: {
    Template: {
      TemplateContent: { Subject: 'Hi {{name}}', Text: 'Hello {{name}}' },
      TemplateData: '{"name":"you"}',
      Attachments: [
        { FileName: 'a.txt', RawContent: Buffer.from('hello bytes').toString('base64'), ContentType: 'text/plain' },
      ],
    },
  },
};
const entries: IndexedEntry[] = [
  { index: 7, entry: { Destination: { ToAddresses: ['a@example.com'] } } },
  { index: 8, entry: { Destination: { ToAddresses: ['b@example.com'], CcAddresses: ['c@example.com'] } } },
];

async function failure(p: Promise<unknown>): Promise<Error & Record<symbol, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<symbol, unknown>;
  }
  throw new Error('expected the call to fail');
}

describe('sendBulkEmailCall: SDK retries are off for this command only', () => {
  it('a connection reset after the request arrived: exactly 1 request, while GetAccount on the same client makes 3', async () => {
    const server = await local(resetAll);
    const ses = client(server.url);
    let appMiddlewareRuns = 0;
    ses.middlewareStack.add(
      (next) => (args) => {
        appMiddlewareRuns++;
        return next(args);
      },
      { step: 'build', name: 'appMiddleware' },
    );

    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 5000, tracker: sendTracker() }));
    expect(server.requests).toHaveLength(1);
    expect(appMiddlewareRuns).toBe(1); // the app's own middleware on the shared client still runs
    expect(err[SEND_STAGE]).toBe('connected');
    expect(classifyError(err)).toMatchObject({ kind: 'unknown', code: 'ECONNRESET' });

    server.requests.length = 0;
    await failure(ses.send(new GetAccountCommand({})));
    expect(server.requests).toHaveLength(3);
    ses.destroy();
  });

  it('a 429 TooManyRequestsException is answered once (the SDK would retry it 3 times)', async () => {
    const server = await local((_req, res) => {
      res.writeHead(429, {
        'content-type': 'application/json',
        'x-amzn-ErrorType': 'TooManyRequestsException',
        'x-amzn-RequestId': 'rid-429',
      });
      res.end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
    });
    const ses = client(server.url);
    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 5000 }));
    expect(server.requests).toHaveLength(1);
    expect(classifyError(err)).toMatchObject({
      kind: 'throttle',
      code: 'TooManyRequestsException',
      httpStatus: 429,
      requestId: 'rid-429',
    });
    ses.destroy();
  });
});

describe('sendBulkEmailCall: never left vs unknown', () => {
  it('connection refused → stage not-connected → retry', async () => {
    const server = await local(resetAll);
    const url = server.url;
    await server.close();
    open.length = 0;
    const ses = client(url);
    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 5000, tracker: sendTracker() }));
    expect((err as Error & { code?: string }).code).toBe('ECONNREFUSED');
    expect(err[SEND_STAGE]).toBe('not-connected');
    expect(classifyError(err).kind).toBe('retry');
    ses.destroy();
  });

  it('our timeout while the socket is still connecting (DNS never answers) → not-connected → retry', async () => {
    const agent = new http.Agent({ keepAlive: true });
    // Every connection looks its host up with a resolver that never answers: the socket stays "connecting".
    (agent as unknown as { createConnection: typeof net.createConnection }).createConnection = ((
      opts: net.NetConnectOpts,
    ) =>
      net.createConnection({
        ...(opts as net.TcpNetConnectOpts),
        host: 'never.invalid',
        lookup: () => {},
      })) as typeof net.createConnection;
    const ses = client('http://127.0.0.1:9', { requestHandler: { httpAgent: agent } });
    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 150, tracker: sendTracker() }));
    expect(err.name).toBe('AbortError');
    expect(err[SEND_STAGE]).toBe('not-connected');
    expect(classifyError(err)).toMatchObject({ kind: 'retry', code: 'TimeoutError' });
    agent.destroy();
    ses.destroy();
  });

  it('our timeout after the request reached a server that never answers → connected → unknown', async () => {
    const server = await local(() => {});
    const ses = client(server.url);
    const t0 = Date.now();
    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 150, tracker: sendTracker() }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(server.requests).toHaveLength(1);
    expect(err[SEND_STAGE]).toBe('connected');
    expect(classifyError(err)).toMatchObject({ kind: 'unknown', code: 'TimeoutError' });
    ses.destroy();
  });

  it('an error before the HTTP handler (credentials) → before-handler → retry, nothing sent', async () => {
    const server = await local(resetAll);
    const ses = client(server.url, {
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 5000, tracker: sendTracker() }));
    expect(server.requests).toHaveLength(0);
    expect(err[SEND_STAGE]).toBe('before-handler');
    expect(classifyError(err).kind).toBe('retry');
    ses.destroy();
  });

  it('the outer signal aborts the call too', async () => {
    const server = await local(() => {});
    const ses = client(server.url);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const err = await failure(sendBulkEmailCall(ses, content, entries, { timeoutMs: 10_000, signal: ctl.signal }));
    expect(err.name).toBe('AbortError');
    ses.destroy();
  });
});

describe('sendBulkEmailCall: request and results', () => {
  it('sends the content plus the entries, attachments as the original bytes (base64 once on the wire)', async () => {
    const server = await local((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-RequestId': 'rid-ok' });
      res.end(
        JSON.stringify({
          BulkEmailEntryResults: [
            { Status: 'SUCCESS', MessageId: 'm1' },
            { Status: 'MESSAGE_REJECTED', Error: 'virus' },
          ],
        }),
      );
    });
    const ses = client(server.url);
    const out = await sendBulkEmailCall(ses, content, entries, { timeoutMs: 5000 });
    expect(out).toEqual({
      results: [
        { Status: 'SUCCESS', MessageId: 'm1' },
        { Status: 'MESSAGE_REJECTED', Error: 'virus' },
      ],
      requestId: 'rid-ok',
      mismatch: false,
    });
    const wire = JSON.parse(server.requests[0].body);
    expect(server.requests[0].url).toBe('/v2/email/outbound-bulk-emails');
    expect(wire.FromEmailAddress).toBe('sender@example.com');
    expect(wire.DefaultContent.Template.Attachments[0].RawContent).toBe(Buffer.from('hello bytes').toString('base64'));
    expect(wire.BulkEmailEntries).toEqual(entries.map((e) => e.entry));
    ses.destroy();
  });

  it('pads missing results (status undefined → recorded UNKNOWN) and flags the mismatch', async () => {
    const server = await local((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ BulkEmailEntryResults: [{ Status: 'SUCCESS', MessageId: 'm1' }] }));
    });
    const ses = client(server.url);
    const out = await sendBulkEmailCall(ses, content, entries, { timeoutMs: 5000 });
    expect(out.results).toEqual([{ Status: 'SUCCESS', MessageId: 'm1' }, { Status: undefined }]);
    expect(out.mismatch).toBe(true);
    ses.destroy();
  });
});

describe('prepareContent', () => {
  it('decodes attachments to Uint8Array once, leaves the input alone, and is idempotent', () => {
    const prepared = prepareContent(content);
    const raw = prepared.DefaultContent?.Template?.Attachments?.[0].RawContent;
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(raw as Uint8Array).toString()).toBe('hello bytes');
    expect(typeof content.DefaultContent.Template?.Attachments?.[0].RawContent).toBe('string');
    expect(prepareContent(prepared)).toBe(prepared);
    expect(Object.keys(prepared)).toEqual(Object.keys(content));
  });

  it('passes content without attachments through', () => {
    const plain: JobContent = { FromEmailAddress: 'a@b.c', DefaultContent: { Template: { TemplateName: 't' } } };
    expect(prepareContent(plain)).toEqual(plain);
  });
});
