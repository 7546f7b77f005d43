// Child process: the SES emulator plus a proxy in front of it (rate-limiting fault proxy or fixed latency), so that the
// process under measurement does none of the SES side's work. Driven over IPC by backend-client.ts.
import { type FaultProxy, startFaultProxy } from '../../helpers/fault-proxy.js';
import { startSesEmulator } from '../../helpers/ses-emulator.js';
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js';
import { serve } from './rpc.js';

export type ProxySpec =
  /**
   * The test suite's fault proxy: 429 above `limitRate`, metered as SES meters (`meter: 'ses'`, a budget refilling at
   * the rate that one call may overdraw) or by the stricter trailing 1-s window (`'window'`, 1.1 × rate); optional delay.
   */
  | { kind: 'fault'; limitRate?: number; meter?: 'ses' | 'window'; delayMs?: number }
  /** Every request (any SES operation) held `delayMs`, then forwarded. */
  | { kind: 'latency'; delayMs: number };

const ses = await startSesEmulator();
let fault: FaultProxy | undefined;
let latency: LatencyProxy | undefined;
let cpuMark = process.cpuUsage();

async function stopProxy(): Promise<void> {
  await fault?.close();
  await latency?.close();
  fault = undefined;
  latency = undefined;
}

serve({
  async startProxy(spec: ProxySpec) {
    await stopProxy();
    if (spec.kind === 'latency') {
      latency = await startLatencyProxy(ses.url, spec.delayMs);
      return latency.url;
    }
    const delay = spec.delayMs;
    fault = await startFaultProxy(ses.url, () => (delay ? { kind: 'delay', ms: delay } : undefined), {
      limitRate: spec.limitRate,
      meter: spec.meter,
    });
    return fault.url;
  },
  stopProxy,
  async clear() {
    await ses.clear();
    cpuMark = process.cpuUsage();
  },
  /** What the SES side saw since the last clear(). */
  async report() {
    const emails = await ses.emails();
    const perRecipient = new Map<string, number>();
    for (const e of emails) {
      for (const to of e.destination.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    }
    let duplicates = 0;
    for (const n of perRecipient.values()) if (n > 1) duplicates += n - 1;
    const cpu = process.cpuUsage(cpuMark);
    return {
      calls:
        fault?.calls.map((c) => ({ at: c.at, entries: c.entries, recipients: c.recipients, fault: c.fault ?? null })) ??
        [],
      maxRecipientsPerSecond: fault?.maxRecipientsPerSecond() ?? 0,
      paths: latency?.counts() ?? {},
      emails: emails.length,
      recipients: perRecipient.size,
      duplicates,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  },
  async exit() {
    await stopProxy();
    await ses.close();
  },
});
