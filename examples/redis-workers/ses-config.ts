// SES client config from the environment: SES_ENDPOINT (a local emulator, dummy credentials) or the usual AWS setup.
import type { SESv2ClientConfig } from '@aws-sdk/client-sesv2';

export function sesFromEnv(): SESv2ClientConfig {
  if (!process.env.SES_ENDPOINT) return {};
  return {
    endpoint: process.env.SES_ENDPOINT,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

/** SEND_RATE: recipients per second for all workers together, or 'account' (the default) for SES's MaxSendRate. */
export function sendRateFromEnv(): number | 'account' {
  const rate = process.env.SEND_RATE;
  return rate === undefined || rate === 'account' ? 'account' : Number(rate);
}
