// Starts the aws-ses-v2-local SES emulator in-process on a free 127.0.0.1 port and reads what it stored.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import * as emulator from 'aws-ses-v2-local';

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
