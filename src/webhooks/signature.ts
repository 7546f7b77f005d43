// Standard Webhooks v1 signing: secrets in the `whsec_` format, `webhook-signature: v1,<base64 HMAC-SHA256>`.
import { createHmac } from 'node:crypto';
import type { WebhookEndpoint } from '../types.js';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The Standard Webhooks spec asks for secrets of 24 to 64 random bytes. */
const MIN_BYTES = 24;
const MAX_BYTES = 64;

/** The key bytes of each secret; throws a TypeError that says how to fix a malformed one. */
export function secretKeys(secret: WebhookEndpoint['secret']): Buffer[] {
  const list = typeof secret === 'string' || secret instanceof Uint8Array ? [secret] : [...secret];
  if (list.length === 0) throw new TypeError('webhook secret list is empty');
  return list.map((one) => {
    let key: Buffer;
    if (one instanceof Uint8Array) key = Buffer.from(one);
    else if (typeof one === 'string' && one.startsWith(PREFIX) && BASE64.test(one.slice(PREFIX.length))) {
      key = Buffer.from(one.slice(PREFIX.length), 'base64');
    } else {
      throw new TypeError(
        "webhook secret must be 'whsec_' followed by base64 (e.g. 'whsec_' + randomBytes(32).toString('base64')) or a Uint8Array of raw key bytes",
      );
    }
    if (key.length < MIN_BYTES || key.length > MAX_BYTES) {
      throw new TypeError(`webhook secret must be ${MIN_BYTES} to ${MAX_BYTES} bytes, got ${key.length}`);
    }
    return key;
  });
}

/** The `webhook-signature` header: one `v1,<base64>` per key, space-separated, over `id.timestamp.body`. */
export function signWebhook(keys: readonly Buffer[], id: string, timestampSeconds: number, body: string): string {
  const content = `${id}.${timestampSeconds}.${body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`).join(' ');
}
