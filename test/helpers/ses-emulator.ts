// Starts the aws-ses-v2-local SES emulator in-process on a free 127.0.0.1 port and reads what it stored.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import * as emulator from 'aws-ses-v2-local';
import { afterAll, beforeAll, beforeEach } from 'vitest';

type Start = (options?: { host?: string; port?: number }) => Promise<Server>;

function startFunction(): Start {
  const mod = emulator as unknown as { default: Start | { default: Start } };
  return typeof mod.default === 'function' ? mod.default : mod.default.default;
}

export interface StoredEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html: string; text: string };
  headers?: { name: string; value: string }[];
  at: number;
}

export interface SesEmulator {
  url: string;
  port: number;
  /** An SES client pointed at the emulator (SDK defaults otherwise, as an app would have). */
  client(config?: Partial<SESv2ClientConfig>): SESv2Client;
  emails(): Promise<StoredEmail[]>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** The full GetAccount answer the emulator needs (set it as AWS_SES_ACCOUNT before the router reads the account). */
export function emulatorAccount(quota: {
  Max24HourSend: number;
  MaxSendRate: number;
  SentLast24Hours: number;
}): string {
  return JSON.stringify({
    DedicatedIpAutoWarmupEnabled: false,
    Details: {
      AdditionalContactEmailAddresses: [],
      ContactLanguage: 'EN',
      MailType: 'MARKETING',
      ReviewDetails: { CaseId: 'c', Status: 'GRANTED' },
      UseCaseDescription: 'test',
      WebsiteURL: 'https://example.com',
    },
    EnforcementStatus: 'HEALTHY',
    ProductionAccessEnabled: true,
    SendingEnabled: true,
    SendQuota: quota,
    SuppressionAttributes: { SuppressedReasons: [] },
  });
}

export async function startSesEmulator(): Promise<SesEmulator> {
  const server = await startFunction()({ host: '127.0.0.1', port: 0 });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    client: (config = {}) =>
      new SESv2Client({
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        ...config,
      }),
    emails: async () => {
      const res = await fetch(`${url}/store`);
      const body = (await res.json()) as { emails: StoredEmail[] };
      return body.emails;
    },
    clear: async () => {
      await fetch(`${url}/clear-store`, { method: 'POST' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * One emulator for the enclosing suite: started before all its tests, emptied before each, closed after all.
 * Call it inside `describe`; the returned object forwards to the running emulator.
 */
export function sesEmulatorForSuite(): SesEmulator {
  let inner: SesEmulator | undefined;
  const get = () => {
    if (!inner) throw new Error('the SES emulator is not running (use it inside a test or hook)');
    return inner;
  };
  beforeAll(async () => {
    inner = await startSesEmulator();
  });
  afterAll(async () => {
    await inner?.close();
  });
  beforeEach(async () => {
    await inner?.clear();
  });
  return {
    get url() {
      return get().url;
    },
    get port() {
      return get().port;
    },
    client: (config) => get().client(config),
    emails: () => get().emails(),
    clear: () => get().clear(),
    close: () => get().close(),
  };
}
