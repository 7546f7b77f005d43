// Bench 7 — what OpenTelemetry adds to one accept span: none, the API's global no-op providers, and an SDK recording.
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NO_TELEMETRY, resolveTelemetry, type Telemetry } from '../../src/telemetry/telemetry.js';
import { type Bench, info, round } from './support/result.js';

async function perCall(telemetry: Telemetry, n: number): Promise<number> {
  const once = (i: number) =>
    telemetry.accept(async (note) => {
      note({ 'bulk_email.entries': 50, 'bulk_email.outcome': 'accepted' });
      return i;
    });
  for (let i = 0; i < n / 10; i++) await once(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once(i);
  return ((performance.now() - t0) * 1000) / n;
}

export const run: Bench = async ({ quick }) => {
  const n = quick ? 50_000 : 200_000;
  const exporter = new InMemorySpanExporter();
  const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const variants: [string, Telemetry][] = [
    ['@opentelemetry/api absent (or telemetry: false)', NO_TELEMETRY],
    ['API installed, no SDK registered (global no-op)', resolveTelemetry(undefined)],
    ['SDK tracer, in-memory exporter', resolveTelemetry({ tracerProvider: sdk })],
  ];
  const rows = [];
  for (const [name, telemetry] of variants) {
    rows.push(info(name, 'µs per accept span (wrapper + span)', round(await perCall(telemetry, n), 2), 'µs'));
    exporter.reset();
  }
  await sdk.shutdown();
  return {
    id: 'telemetry',
    title: '7. OpenTelemetry overhead per accepted request',
    rows,
    notes: [
      `${n} sequential calls of the accept wrapper around an empty async handler, after a 10 % warm-up; compare with the server CPU per request of bench 3 (≈ 500 µs on the reference machine).`,
    ],
  };
};
