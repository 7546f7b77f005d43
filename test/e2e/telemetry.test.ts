// OpenTelemetry end to end: HTTP in, SES emulator (behind a fault proxy) out; spans and metrics read from the SDK's in-memory exporters.
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkEmail, inProcessQueue } from '../../src/index.js';
import { bulkBody } from '../helpers/bodies.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { sesEmulatorForSuite } from '../helpers/ses-emulator.js';

function otel() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when flushed (the interval is never reached in a test).
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: () => spans.getFinishedSpans(),
    /** Collects now and returns the data points of each metric by name. */
    async points() {
      metrics.reset();
      await reader.forceFlush();
      const out = new Map<string, { attributes: Attributes; value: unknown }[]>();
      for (const rm of metrics.getMetrics() as ResourceMetrics[]) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            const list = out.get(m.descriptor.name) ?? [];
            for (const p of m.dataPoints) list.push({ attributes: p.attributes, value: p.value });
            out.set(m.descriptor.name, list);
          }
        }
      }
      return out;
    },
    async close() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** Every attribute of every span and data point, as text: no address (nor anything with an @) may be in it. */
function allAttributes(spans: ReadableSpan[], points: Map<string, { attributes: Attributes }[]>): string {
  const parts = spans.map((s) => JSON.stringify({ name: s.name, attributes: s.attributes, events: s.events }));
  for (const list of points.values()) for (const p of list) parts.push(JSON.stringify(p.attributes));
  return parts.join('\n');
}

describe('OpenTelemetry', () => {
  const ses = sesEmulatorForSuite();
  let proxy: FaultProxy | undefined;
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
    await proxy?.close();
    proxy = undefined;
  });

  it('a span per accepted request and per SES call, recipients by status, call durations and throttles', async () => {
    const o = otel();
    // The first SES call is throttled; its entries go again.
    proxy = await startFaultProxy(ses.url, ({ n }) => (n === 1 ? { kind: 'throttle' } : undefined));
    const router = bulkEmail({
      ses: ses.client({ endpoint: proxy.url }),
      sendRate: 500,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      authenticate: () => ({ id: 'ops' }),
      telemetry: { tracerProvider: o.tracerProvider, meterProvider: o.meterProvider },
    });
    cleanup.push(
      () => router.close(),
      () => o.close(),
    );
    const app = express().use('/bulk-email', router);
    const res = await request(app)
      .post('/bulk-email')
      .set('Prefer', 'wait=30')
      .send(bulkBody(120, { cc: true }));
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'completed', recipients: 240 });
    expect(await ses.emails()).toHaveLength(120);

    const spans = o.spans();
    const accept = spans.filter((s) => s.name === 'express-bulk-email accept');
    expect(accept).toHaveLength(1);
    expect(accept[0].attributes).toMatchObject({
      'bulk_email.entries': 120,
      'bulk_email.recipients': 240,
      'bulk_email.outcome': 'accepted',
      'bulk_email.job.id': res.body.data.id,
      'bulk_email.dry_run': false,
    });

    const calls = spans.filter((s) => s.name === 'SESv2.SendBulkEmail');
    // 120 entries: 50 + 50 + 20, and the throttled call's 50 once more.
    expect(calls).toHaveLength(4);
    for (const c of calls) {
      expect(c.kind).toBe(2); // CLIENT
      expect(c.attributes).toMatchObject({
        'rpc.system': 'aws-api',
        'rpc.service': 'SESv2',
        'rpc.method': 'SendBulkEmail',
        'bulk_email.job.id': res.body.data.id,
      });
      expect(c.attributes['messaging.batch.message_count']).toBe(c.attributes['bulk_email.entries']);
      expect(c.attributes['bulk_email.recipients']).toBe(2 * (c.attributes['bulk_email.entries'] as number));
    }
    const throttled = calls.filter((c) => c.attributes['bulk_email.throttled'] === true);
    expect(throttled).toHaveLength(1);
    expect(throttled[0].attributes).toMatchObject({
      'bulk_email.attempt': 1,
      'bulk_email.outcome': 'not_sent',
      'bulk_email.retrying': 50,
      'error.type': 'TooManyRequestsException',
      'http.response.status_code': 429,
    });
    const sent = calls.filter((c) => c.attributes['bulk_email.outcome'] === 'sent');
    expect(sent).toHaveLength(3);
    expect(sent.map((c) => c.attributes['bulk_email.entries']).sort()).toEqual([20, 50, 50]);
    expect(sent.map((c) => c.attributes['bulk_email.attempt']).sort()).toEqual([1, 1, 2]);
    for (const c of sent) expect(c.attributes['aws.request_id']).toMatch(/\S/);

    const points = await o.points();
    expect(points.get('bulk_email.recipients')).toEqual([
      { attributes: { 'bulk_email.status': 'SUCCESS' }, value: 240 },
    ]);
    expect(points.get('bulk_email.ses.throttles')?.map((p) => p.value)).toEqual([1]);
    const durations = points.get('bulk_email.ses.call.duration') ?? [];
    const byOutcome = new Map(durations.map((p) => [p.attributes['bulk_email.outcome'], p.value as { count: number }]));
    expect(byOutcome.get('sent')?.count).toBe(3);
    expect(byOutcome.get('not_sent')?.count).toBe(1);
    for (const p of durations) expect(p.attributes['rpc.method']).toBe('SendBulkEmail');
    expect(points.get('bulk_email.queue.backlog')?.map((p) => p.value)).toEqual([0]);

    const text = allAttributes(spans, points);
    expect(text).not.toMatch(/@/);
    expect(text).not.toMatch(/Hello User|your code is/);
  });

  it('backlog and per-principal lag come from queue.stats()', async () => {
    const o = otel();
    const queue = inProcessQueue();
    // 1 recipient/s: the first call (50) leaves at once, the second waits ~50 s, so work stays queued.
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: 1,
      queue,
      authenticate: (req) => ({ id: req.get('x-user') ?? 'nobody' }),
      telemetry: { tracerProvider: o.tracerProvider, meterProvider: o.meterProvider },
    });
    cleanup.push(
      () => router.close(),
      () => queue.close(),
      () => o.close(),
    );
    const app = express().use('/bulk-email', router);
    const res = await request(app).post('/bulk-email').set('x-user', 'team-a').send(bulkBody(150)).expect(202);
    const job = res.body.data.id as string;
    // Wait (polling state, not time) for the first call's results.
    for (;;) {
      const view = await request(app).get(`/bulk-email/${job}`).set('x-user', 'team-a').expect(200);
      if (view.body.data.counts.sent >= 50) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const stats = await queue.stats();
    const waiting = stats.reduce((n, s) => n + s.waitingRecipients, 0);
    expect(waiting).toBeGreaterThan(0);
    const points = await o.points();
    const backlog = points.get('bulk_email.queue.backlog')?.map((p) => p.value as number) ?? [];
    expect(backlog).toHaveLength(1);
    expect(backlog[0]).toBeGreaterThan(0);
    expect(backlog[0]).toBeLessThanOrEqual(100);
    const lag = points.get('bulk_email.queue.lag') ?? [];
    expect(lag.map((p) => p.attributes)).toEqual([{ 'bulk_email.principal.id': 'team-a' }]);
    expect(lag[0].value as number).toBeGreaterThanOrEqual(0);
    expect(allAttributes(o.spans(), points)).not.toMatch(/@/);
  });

  it('a refused request ends its span as an error with the envelope code', async () => {
    const o = otel();
    const router = bulkEmail({
      ses: ses.client(),
      sendRate: 100,
      authenticate: () => ({ id: 'ops' }),
      telemetry: { tracerProvider: o.tracerProvider },
    });
    cleanup.push(
      () => router.close(),
      () => o.close(),
    );
    const app = express().use('/bulk-email', router);
    await request(app).post('/bulk-email').send({ BulkEmailEntries: [] }).expect(400);
    const [span] = o.spans().filter((s) => s.name === 'express-bulk-email accept');
    expect(span.status.code).toBe(2); // ERROR
    expect(span.attributes['error.type']).toBe('VALIDATION_ERROR');
  });
});
