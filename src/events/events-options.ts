// resolveEventsOptions() / resolveGuardOptions(): the `events` and `guard` options → config, with TypeErrors that say how to fix.
import type { EventsOptions, GuardOptions } from '../types.js';
import { parseDuration } from './duration.js';
import { DEFAULT_GUARD, type GuardConfig } from './reputation-guard.js';
import { parseTopicArn } from './sns-urls.js';

export interface SnsEventsConfig {
  topicArns: string[];
  fetchCertificate?: (url: string) => Promise<string>;
  confirmSubscription?: (subscribeUrl: string) => Promise<void>;
}

export interface EventsConfig {
  /** Present when `POST /events/sns` is served. */
  sns?: SnsEventsConfig;
  /** How long MessageId → entry links (and delivery states) are kept. */
  retentionMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_TOPICS = 100;

function fail(message: string): never {
  throw new TypeError(`express-bulk-email: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`unknown option "${key}" in ${what}; known options: ${allowed.join(', ')}`);
  }
}

function duration(value: unknown, name: string, fallback: string, min: number, max: number, range: string): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === undefined)
    fail(`option "${name}" must be a duration such as '${fallback}' (units ms, s, m, h, d), got ${String(value)}`);
  if (ms < min || ms > max) fail(`option "${name}" must be between ${range}, got '${String(value)}'`);
  return ms;
}

function topicArns(value: unknown): string[] {
  const example = 'arn:aws:sns:us-east-1:123456789012:ses-events';
  if (!Array.isArray(value) || value.length === 0) {
    fail(
      `events.sns.topicArns must list the SNS topic ARNs your configuration sets publish to, such as ['${example}']`,
    );
  }
  if (value.length > MAX_TOPICS) fail(`events.sns.topicArns may list at most ${MAX_TOPICS} topics`);
  value.forEach((arn, i) => {
    if (typeof arn === 'string' && /^arn:[^:]+:sns:.*\.fifo$/.test(arn)) {
      fail(`events.sns.topicArns[${i}] is a FIFO topic; SNS delivers only standard topics to HTTPS endpoints`);
    }
    if (typeof arn !== 'string' || !parseTopicArn(arn)) {
      fail(`events.sns.topicArns[${i}] must be an SNS topic ARN such as '${example}', got ${JSON.stringify(arn)}`);
    }
  });
  return [...new Set(value as string[])];
}

/**
 * The `events` option. Undefined still gives a config (default retention): `router.ingest` works without SNS, for
 * apps that receive events through EventBridge, SQS or Lambda.
 */
export function resolveEventsOptions(value: EventsOptions | undefined): EventsConfig {
  if (value === undefined) return { retentionMs: 14 * DAY };
  if (!isObject(value)) fail('option "events" must be an object { sns?, retention? }');
  checkKeys(value, ['sns', 'retention'], 'events');
  const config: EventsConfig = {
    retentionMs: duration(value.retention, 'events.retention', '14d', HOUR, 400 * DAY, "'1h' and '400d'"),
  };
  if (value.sns !== undefined) {
    const sns = value.sns as unknown;
    if (!isObject(sns))
      fail('option "events.sns" must be an object { topicArns, fetchCertificate?, confirmSubscription? }');
    checkKeys(sns, ['topicArns', 'fetchCertificate', 'confirmSubscription'], 'events.sns');
    for (const hook of ['fetchCertificate', 'confirmSubscription']) {
      if (sns[hook] !== undefined && typeof sns[hook] !== 'function') fail(`events.sns.${hook} must be a function`);
    }
    config.sns = {
      topicArns: topicArns(sns.topicArns),
      fetchCertificate: sns.fetchCertificate as SnsEventsConfig['fetchCertificate'],
      confirmSubscription: sns.confirmSubscription as SnsEventsConfig['confirmSubscription'],
    };
  }
  return config;
}

function rate(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    fail(`option "${name}" must be a fraction between 0 and 1 (0.05 is 5 %), got ${String(value)}`);
  }
  return value;
}

/** The `guard` option: the defaults when undefined, off (undefined) when `false`. */
export function resolveGuardOptions(value: GuardOptions | false | undefined): GuardConfig | undefined {
  if (value === false) return undefined;
  if (value === undefined) return { ...DEFAULT_GUARD };
  if (!isObject(value))
    fail('option "guard" must be an object { bounceRate?, complaintRate?, minMessages?, window? } or false');
  checkKeys(value, ['bounceRate', 'complaintRate', 'minMessages', 'window'], 'guard');
  const { minMessages } = value;
  if (minMessages !== undefined && !(Number.isSafeInteger(minMessages) && (minMessages as number) > 0)) {
    fail(`option "guard.minMessages" must be a positive whole number, got ${String(minMessages)}`);
  }
  return {
    bounceRate: rate(value.bounceRate, 'guard.bounceRate', DEFAULT_GUARD.bounceRate),
    complaintRate: rate(value.complaintRate, 'guard.complaintRate', DEFAULT_GUARD.complaintRate),
    minMessages: (minMessages as number | undefined) ?? DEFAULT_GUARD.minMessages,
    windowMs: duration(value.window, 'guard.window', '24h', HOUR, 30 * DAY, "'1h' and '30d'"),
  };
}
