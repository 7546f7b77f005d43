// OpenTelemetry spans and metrics when @opentelemetry/api is installed (an optional peer); a no-op otherwise.
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';
import type { Clock, Queue, TelemetryOptions } from '../types.js';

/** Instrumentation scope: the package's name (its version is not known at run time without reading package.json). */
export const SCOPE = 'express-bulk-email';

/** What a span learns while it runs. Counts and codes only: never an address, a subject or any content. */
export type SpanNote = (attributes: Record<string, string | number | boolean | undefined>) => void;

/** One SES SendBulkEmail call as the span and the duration histogram describe it. */
export interface SesCallFacts {
  jobId: string;
  chunk: number;
  entries: number;
  recipients: number;
  /** The SES call this is for each of its entries (1 = first). */
  attempt: number;
}

export interface Telemetry {
  /** Whether spans and metrics are recorded (false: every method is a pass-through). */
  readonly enabled: boolean;
  /** Runs one POST / in a span (`express-bulk-email accept`); a throw marks the span an error with its code. */
  accept<T>(run: (note: SpanNote) => Promise<T>): Promise<T>;
  /** Runs one SES call in a client span (`SESv2.SendBulkEmail`) and records its duration. */
  sesCall<T>(facts: SesCallFacts, run: (note: SpanNote) => Promise<T>): Promise<T>;
  /** Recipients whose entries reached a final status. */
  recipients(status: string, count: number): void;
  /** SES throttled a call. */
  throttled(): void;
  /** Backlog and per-principal lag, read from queue.stats() when a metric reader collects; returns the stop. */
  watchQueue(queue: Pick<Queue, 'stats'>, clock: Clock): () => void;
}

const pass: SpanNote = () => undefined;

export const NO_TELEMETRY: Telemetry = Object.freeze({
  enabled: false,
  accept: <T>(run: (note: SpanNote) => Promise<T>) => run(pass),
  sesCall: <T>(_facts: SesCallFacts, run: (note: SpanNote) => Promise<T>) => run(pass),
  recipients: () => undefined,
  throttled: () => undefined,
  watchQueue: () => () => undefined,
});

/** SpanKind and SpanStatusCode values of the API (stable numbers), so providers passed in need no API import here. */
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

/**
 * Loads @opentelemetry/api with `require` (both builds: the CJS one has no top-level await, and a missing optional
 * peer must cost nothing but this one failed resolve at build time). `load` is a seam for the test.
 */
export function loadOtelApi(load: (id: string) => unknown = createRequire(import.meta.url)): typeof Otel | undefined {
  try {
    return load('@opentelemetry/api') as typeof Otel;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

const errorType = (err: unknown): string => {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  return err instanceof Error && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(err.name) ? err.name : 'Error';
};

/**
 * The option as resolved: `false` → off; providers given → those; otherwise the API's global providers when the
 * package is installed, and off when it is not.
 */
export function resolveTelemetry(option: TelemetryOptions | false | undefined, api = loadOtelApi): Telemetry {
  if (option === false) return NO_TELEMETRY;
  const given = option ?? {};
  const needGlobal = !given.tracerProvider || !given.meterProvider;
  const otel = needGlobal ? api() : undefined;
  const tracerProvider = (given.tracerProvider ?? otel?.trace.getTracerProvider()) as Otel.TracerProvider | undefined;
  const meterProvider = (given.meterProvider ?? otel?.metrics.getMeterProvider()) as Otel.MeterProvider | undefined;
  if (!tracerProvider && !meterProvider) return NO_TELEMETRY;
  return otelTelemetry(tracerProvider, meterProvider);
}

function otelTelemetry(tracerProvider?: Otel.TracerProvider, meterProvider?: Otel.MeterProvider): Telemetry {
  const tracer = tracerProvider?.getTracer(SCOPE);
  const meter = meterProvider?.getMeter(SCOPE);
  const recipients = meter?.createCounter('bulk_email.recipients', {
    description: 'Recipients whose entries reached a final status, by that status',
    unit: '{recipient}',
  });
  const duration = meter?.createHistogram('bulk_email.ses.call.duration', {
    description: 'Duration of SES SendBulkEmail calls',
    unit: 's',
  });
  const throttles = meter?.createCounter('bulk_email.ses.throttles', {
    description: 'SES calls throttled (the call or one of its entries)',
    unit: '{call}',
  });

  async function inSpan<T>(
    name: string,
    options: Otel.SpanOptions,
    run: (note: SpanNote) => Promise<T>,
    after?: (error: string | undefined) => void,
  ): Promise<T> {
    if (!tracer) {
      let error: string | undefined;
      try {
        return await run(pass);
      } catch (err) {
        error = errorType(err);
        throw err;
      } finally {
        after?.(error);
      }
    }
    return tracer.startActiveSpan(name, options, async (span) => {
      const note: SpanNote = (attributes) => {
        for (const [k, v] of Object.entries(attributes)) if (v !== undefined) span.setAttribute(k, v);
      };
      let error: string | undefined;
      try {
        return await run(note);
      } catch (err) {
        error = errorType(err);
        span.setAttribute('error.type', error);
        span.setStatus({ code: STATUS_ERROR, message: error });
        throw err;
      } finally {
        after?.(error);
        span.end();
      }
    });
  }

  return {
    enabled: true,
    accept: (run) => inSpan('express-bulk-email accept', { kind: SPAN_KIND_INTERNAL }, run),
    sesCall: (facts, run) => {
      const started = performance.now();
      const base = {
        'rpc.system': 'aws-api',
        'rpc.service': 'SESv2',
        'rpc.method': 'SendBulkEmail',
      };
      let outcome = 'error';
      return inSpan(
        'SESv2.SendBulkEmail',
        {
          kind: SPAN_KIND_CLIENT,
          attributes: {
            ...base,
            'messaging.batch.message_count': facts.entries,
            'bulk_email.job.id': facts.jobId,
            'bulk_email.chunk': facts.chunk,
            'bulk_email.entries': facts.entries,
            'bulk_email.recipients': facts.recipients,
            'bulk_email.attempt': facts.attempt,
          },
        },
        (note) =>
          run((attributes) => {
            if (typeof attributes['bulk_email.outcome'] === 'string') outcome = attributes['bulk_email.outcome'];
            note(attributes);
          }),
        (error) => {
          duration?.record((performance.now() - started) / 1000, {
            ...base,
            'bulk_email.outcome': error ? 'error' : outcome,
          });
        },
      );
    },
    recipients: (status, count) => {
      if (count > 0) recipients?.add(count, { 'bulk_email.status': status });
    },
    throttled: () => throttles?.add(1, { 'rpc.system': 'aws-api', 'rpc.service': 'SESv2' }),
    watchQueue: (queue, clock) => {
      if (!meter) return () => undefined;
      const backlog = meter.createObservableGauge('bulk_email.queue.backlog', {
        description: 'Recipients in ready work waiting in the queue',
        unit: '{recipient}',
      });
      const lag = meter.createObservableGauge('bulk_email.queue.lag', {
        description: "How long each principal's oldest ready work has waited",
        unit: 's',
      });
      const observe: Otel.BatchObservableCallback = async (result) => {
        const stats = await queue.stats();
        const now = clock.now();
        let waiting = 0;
        for (const s of stats) {
          waiting += s.waitingRecipients;
          if (s.oldestWaitingSince !== null) {
            result.observe(lag, Math.max(0, now - s.oldestWaitingSince) / 1000, {
              'bulk_email.principal.id': s.principalId,
            });
          }
        }
        result.observe(backlog, waiting);
      };
      meter.addBatchObservableCallback(observe, [backlog, lag]);
      return () => meter.removeBatchObservableCallback(observe, [backlog, lag]);
    },
  };
}
