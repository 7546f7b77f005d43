// The orchestrating side of backend.ts: start the SES side in its own process, point proxies at it, read what it saw.
import { fileURLToPath } from 'node:url';
import type { ProxySpec } from './backend.js';
import { forkChild } from './rpc.js';

export interface SesCall {
  at: number;
  entries: number;
  recipients: number;
  fault: string | null;
}

export interface SesReport {
  /** SendBulkEmail calls seen by the fault proxy (empty with the latency proxy). */
  calls: SesCall[];
  /** The fault proxy's largest recipients-in-any-1-second window (throttled calls excluded). */
  maxRecipientsPerSecond: number;
  /** Requests per path seen by the latency proxy. */
  paths: Record<string, number>;
  /** Emails the emulator stored, distinct To addresses among them, and the stored emails beyond one per address. */
  emails: number;
  recipients: number;
  duplicates: number;
  /** CPU the SES side (proxy + emulator) used since clear(). */
  cpuMs: number;
}

export interface Backend {
  startProxy(spec: ProxySpec): Promise<string>;
  clear(): Promise<void>;
  report(): Promise<SesReport>;
  close(): Promise<void>;
}

export async function startBackend(): Promise<Backend> {
  const child = await forkChild(fileURLToPath(new URL('./backend.ts', import.meta.url)));
  return {
    startProxy: (spec) => child.call<string>('startProxy', spec),
    clear: () => child.call('clear'),
    report: () => child.call<SesReport>('report'),
    close: () => child.close(),
  };
}
