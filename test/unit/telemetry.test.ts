// Telemetry is optional: nothing when @opentelemetry/api is absent or `telemetry: false`; bad options fail at build time.
import { describe, expect, it } from 'vitest';
import { bulkEmail } from '../../src/index.js';
import { NO_TELEMETRY, loadOtelApi, resolveTelemetry } from '../../src/telemetry/telemetry.js';

const missing = (id: string) => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
};

describe('telemetry option', () => {
  it('is a pass-through when @opentelemetry/api is not installed', async () => {
    expect(loadOtelApi(missing)).toBeUndefined();
    const t = resolveTelemetry(undefined, () => loadOtelApi(missing));
    expect(t).toBe(NO_TELEMETRY);
    expect(t.enabled).toBe(false);
    await expect(t.accept(async () => 7)).resolves.toBe(7);
  });

  it('other load errors are not hidden', () => {
    expect(() =>
      loadOtelApi(() => {
        throw new SyntaxError('broken');
      }),
    ).toThrow('broken');
  });

  it('is off with telemetry: false, and on with the global providers when the API is installed', () => {
    expect(resolveTelemetry(false)).toBe(NO_TELEMETRY);
    expect(resolveTelemetry(undefined).enabled).toBe(true);
  });

  it('rejects what is not a provider, at build time', () => {
    const base = { authenticate: () => ({ id: 'a' }), sendRate: 1, worker: true };
    expect(() => bulkEmail({ ...base, telemetry: { tracerProvider: {} as never } })).toThrow(
      /telemetry.tracerProvider" is missing method\(s\) getTracer/,
    );
    expect(() => bulkEmail({ ...base, telemetry: { meter: 1 } as never })).toThrow(TypeError);
    expect(() => bulkEmail({ ...base, telemetry: 'on' as never })).toThrow(/must be false or an object/);
  });
});
