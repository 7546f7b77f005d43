// Webhook delivery over real HTTP: signatures verified with `standardwebhooks`, retries, 410, Retry-After, SSRF refusals.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger, WebhookOptions, WebhookOutbox } from '../../src/types.js';
import { memoryOutbox } from '../../src/webhooks/memory-outbox.js';
import { webhookDelivery, type WebhookDeliveryOptions } from '../../src/webhooks/webhook-delivery.js';
import { resolveWebhookOptions } from '../../src/webhooks/webhook-options.js';
import { type Answer, type Receiver, startReceiver } from './receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const JOB = { id: 'job_1', status: 'completed', counts: { sent: 2, failed: 0, pending: 0, canceled: 0 } };

interface Logged {
  level: string;
  obj: Record<string, unknown>;
}

/** An outbox that also counts what the engine did with it. */
function spyOutbox(inner: WebhookOutbox = memoryOutbox()) {
  const calls = { remove: 0, reschedule: [] as number[], disable: [] as string[] };
  const outbox: WebhookOutbox = {
    ...inner,
    remove: async (id, lease) => {
      calls.remove += 1;
      await inner.remove(id, lease);
    },
    reschedule: async (id, lease, at) => {
      calls.reschedule.push(at);
      await inner.reschedule(id, lease, at);
    },
    disable: async (url) => {
      calls.disable.push(url);
      await inner.disable(url);
    },
  };
  /** Messages still in the outbox (leases taken here are for looking only: a far-future `now`). */
  const waiting = async () => (await inner.due(Number.MAX_SAFE_INTEGER, 1000, 1)).length;
  return { outbox, calls, waiting };
}

function capture(): { logger: Logger; logs: Logged[] } {
  const logs: Logged[] = [];
  const at = (level: string) => (obj: object) => logs.push({ level, obj: obj as Record<string, unknown> });
  return { logs, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(
  answers: Answer[] | ((i: number) => Answer),
  webhooks: Partial<WebhookOptions> = {},
  engine: Partial<WebhookDeliveryOptions> = {},
) {
  const receiver = await startReceiver(answers);
  open.push(receiver);
  const spy = spyOutbox();
  const { logger, logs } = capture();
  const config = resolveWebhookOptions({
    endpoint: () => ({ url: receiver.url, secret: SECRET }),
    allowPrivate: true,
    retryDelaysMs: [20, 20, 20],
    ...webhooks,
  });
  const delivery = webhookDelivery({ config: config!, outbox: spy.outbox, logger, timeoutMs: 2_000, ...engine });
  open.push(delivery);
  delivery.start();
  return { receiver, delivery, logs, ...spy };
}

function verify(request: { headers: Record<string, unknown>; body: string }) {
  return new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>);
}

describe('webhook delivery', () => {
  it('answers 500, 500, 200: delivered once, three signed attempts with the same webhook-id and body', async () => {
    const { receiver, delivery, calls, waiting } = await setup([{ status: 500 }, { status: 500 }, { status: 200 }]);
    const id = await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    expect(id).toMatch(/^msg_/);
    const got = await receiver.waitFor(3);
    await until(() => calls.remove === 1);
    for (const request of got) {
      expect(verify(request)).toEqual({ type: 'job.completed', timestamp: expect.any(String), data: JOB });
      expect(request.headers['webhook-id']).toBe(id);
      expect(request.headers['content-type']).toBe('application/json');
    }
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect(calls.reschedule).toHaveLength(2);
    expect(await waiting()).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).toHaveLength(3); // nothing after the 200
  });

  it('a forged or altered request fails the standardwebhooks verifier (the test checks something)', async () => {
    const { receiver, delivery } = await setup([{ status: 200 }]);
    await delivery.emit({ principalId: 'p1', type: 'job.failed', data: JOB });
    const [request] = await receiver.waitFor(1);
    expect(() => verify({ ...request, body: request.body.replace('job_1', 'job_2') })).toThrow();
    expect(() =>
      new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
        request.body,
        request.headers as Record<string, string>,
      ),
    ).toThrow();
  });

  it('signs with every secret of a list (rotation): a receiver holding either one verifies', async () => {
    const old = `whsec_${randomBytes(24).toString('base64')}`;
    const { receiver, delivery } = await setup([{ status: 200 }], {
      endpoint: () => ({ url: receiver.url, secret: [SECRET, old] }),
    });
    await delivery.emit({ principalId: 'p1', type: 'job.paused', data: JOB });
    const [request] = await receiver.waitFor(1);
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(request)).toBeTruthy();
    expect(new Webhook(old).verify(request.body, request.headers as Record<string, string>)).toBeTruthy();
  });

  it('410 Gone disables the endpoint: waiting messages dropped, new ones refused until enable()', async () => {
    const { receiver, delivery, calls, waiting, logs } = await setup([{ status: 410 }, { status: 200 }], {
      retryDelaysMs: [60_000],
    });
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    await receiver.waitFor(1);
    await until(() => calls.disable.length === 1);
    expect(calls.disable).toEqual([receiver.url]);
    expect(await waiting()).toBe(0);
    expect(await delivery.emit({ principalId: 'p1', type: 'job.canceled', data: JOB })).toBeNull();
    expect(logs.some((l) => l.obj.code === 'WEBHOOK_ENDPOINT_GONE')).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).toHaveLength(1);
    await delivery.enable(receiver.url);
    expect(await delivery.emit({ principalId: 'p1', type: 'job.canceled', data: JOB })).toMatch(/^msg_/);
    await receiver.waitFor(2);
  });

  it('honours Retry-After (seconds) over a shorter scheduled delay', async () => {
    const { receiver, delivery } = await setup([{ status: 503, headers: { 'Retry-After': '1' } }, { status: 200 }], {
      retryDelaysMs: [20],
    });
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    const [first, second] = await receiver.waitFor(2, 5_000);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
  });

  it('a receiver that never answers times out and the message is retried', async () => {
    const { receiver, delivery, calls } = await setup(['hang', { status: 204 }], {}, { timeoutMs: 300 });
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    const [first, second] = await receiver.waitFor(2);
    expect(second.at - first.at).toBeGreaterThanOrEqual(250);
    await until(() => calls.remove === 1);
  });

  it('does not read the answer body: a 200 whose body never ends still counts as delivered at once', async () => {
    const receiver = await startReceiver([{ status: 200 }]);
    open.push(receiver);
    const endless = await import('node:http').then(({ createServer }) => {
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('x'.repeat(64 * 1024)); // and never end
      });
      return new Promise<{ url: string; close(): Promise<void> }>((resolve) =>
        server.listen(0, '127.0.0.1', () => {
          const port = (server.address() as { port: number }).port;
          resolve({
            url: `http://127.0.0.1:${port}/`,
            close: () => {
              server.closeAllConnections();
              return new Promise<void>((r) => server.close(() => r()));
            },
          });
        }),
      );
    });
    open.push(endless);
    const spy = spyOutbox();
    const delivery = webhookDelivery({
      config: resolveWebhookOptions({ endpoint: () => ({ url: endless.url, secret: SECRET }), allowPrivate: true })!,
      outbox: spy.outbox,
      timeoutMs: 2_000,
    });
    open.push(delivery);
    delivery.start();
    const started = Date.now();
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    await until(() => spy.calls.remove === 1, 1_500);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(spy.calls.reschedule).toHaveLength(0);
  });

  it('does not follow redirects: a 302 is a failed attempt and the Location target gets nothing', async () => {
    const target = await startReceiver([{ status: 200 }]);
    open.push(target);
    const { receiver, delivery, calls, logs } = await setup([{ status: 302, headers: { Location: target.url } }], {
      retryDelaysMs: [],
    });
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    await receiver.waitFor(1);
    await until(() => calls.remove === 1);
    expect(target.received).toHaveLength(0);
    expect(logs.find((l) => l.obj.code === 'WEBHOOK_GAVE_UP')?.obj.reason).toMatch(/HTTP 302/);
  });

  it('gives up after the last delay of retryDelaysMs and logs WEBHOOK_GAVE_UP', async () => {
    const { receiver, delivery, calls, waiting, logs } = await setup([{ status: 500 }], { retryDelaysMs: [10, 10] });
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    await receiver.waitFor(3);
    await until(() => calls.remove === 1);
    expect(await waiting()).toBe(0);
    expect(logs.find((l) => l.obj.code === 'WEBHOOK_GAVE_UP')?.obj.attempts).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).toHaveLength(3);
  });

  it('sends only subscribed events, queues a keyed event once, and drops a message whose principal has no endpoint now', async () => {
    let active = true;
    const { receiver, delivery, calls } = await setup([{ status: 200 }], {
      events: ['job.completed', 'job.failed'],
      endpoint: () => (active ? { url: receiver.url, secret: SECRET } : null),
    });
    expect(await delivery.emit({ principalId: 'p1', type: 'job.paused', data: JOB })).toBeNull();
    const a = await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB, key: 'job_1' });
    const b = await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB, key: 'job_1' });
    expect(b).toBe(a);
    await receiver.waitFor(1);
    await until(() => calls.remove === 1);
    active = false;
    expect(await delivery.emit({ principalId: 'p1', type: 'job.failed', data: JOB })).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).toHaveLength(1);
  });

  it('close() aborts an attempt in flight and leaves the message due again with the same id', async () => {
    const spy = spyOutbox();
    const receiver = await startReceiver(['hang']);
    open.push(receiver);
    const delivery = webhookDelivery({
      config: resolveWebhookOptions({ endpoint: () => ({ url: receiver.url, secret: SECRET }), allowPrivate: true })!,
      outbox: spy.outbox,
      timeoutMs: 30_000,
    });
    delivery.start();
    const id = await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    await receiver.waitFor(1);
    const started = Date.now();
    await delivery.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(spy.calls.reschedule).toHaveLength(1);
    const [again] = await spy.outbox.due(Date.now() + 1, 10, 1_000);
    expect(again.id).toBe(id);
  });
});

describe('webhook targets (SSRF)', () => {
  /** Every attempt must be refused before any byte reaches the loopback receiver. */
  async function refused(url: (receiver: Receiver) => string, resolve?: WebhookDeliveryOptions['resolve']) {
    const { receiver, delivery, calls, logs } = await setup(
      [{ status: 200 }],
      { allowPrivate: undefined, retryDelaysMs: [60_000], endpoint: () => ({ url: url(receiver), secret: SECRET }) },
      resolve ? { resolve } : {},
    );
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    await until(() => calls.reschedule.length === 1);
    expect(receiver.received).toHaveLength(0);
    return String(logs.find((l) => l.obj.reason)?.obj.reason);
  }

  // Only loopback targets here: if the check ever broke, the attempt must still stay on this machine. Private
  // ranges elsewhere (10/8, 169.254/16, fd00::/8, …) are checked without any connection in address-policy.test.ts.
  it.each([
    ['IPv4 loopback', (r: Receiver) => `http://127.0.0.1:${r.port}/hooks`],
    ['IPv6 loopback', (r: Receiver) => `http://[::1]:${r.port}/hooks`],
    ['IPv4-mapped IPv6 loopback', (r: Receiver) => `http://[::ffff:127.0.0.1]:${r.port}/hooks`],
    ['loopback in hex', (r: Receiver) => `http://0x7f.0.0.1:${r.port}/hooks`],
    ['loopback as one number', (r: Receiver) => `http://2130706433:${r.port}/hooks`],
    ['another loopback address', (r: Receiver) => `http://127.1.2.3:${r.port}/hooks`],
  ])('refuses %s literally in the URL', async (_name, url) => {
    expect(await refused(url)).toMatch(/private|non-public/);
  });

  it('refuses a DNS name that resolves to loopback (localhost, and an injected name)', async () => {
    expect(await refused((r) => `http://localhost:${r.port}/hooks`)).toMatch(/resolves to a private/);
    const rebinding = async () => [{ address: '127.0.0.1', family: 4 }];
    expect(await refused((r) => `http://hooks.example.test:${r.port}/hooks`, rebinding)).toMatch(
      /resolves to a private/,
    );
  });

  it('refuses other schemes', async () => {
    expect(await refused(() => 'ftp://example.com/hooks')).toMatch(/scheme ftp:/);
    expect(await refused(() => 'file:///etc/passwd')).toMatch(/scheme file:/);
  });

  it('connects to the address its lookup checked: an injected name reaches the loopback receiver only with allowPrivate', async () => {
    const resolve = async (host: string) => {
      expect(host).toBe('hooks.example.test');
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const { receiver, delivery, calls } = await setup(
      [{ status: 200 }],
      { endpoint: () => ({ url: `http://hooks.example.test:${receiver.port}/hooks`, secret: SECRET }) },
      { resolve },
    );
    await delivery.emit({ principalId: 'p1', type: 'job.completed', data: JOB });
    const [request] = await receiver.waitFor(1);
    expect(request.headers.host).toBe(`hooks.example.test:${receiver.port}`);
    await until(() => calls.remove === 1);
  });
});
