// A private certificate authority and an SNS look-alike that signs messages exactly as SNS does (versions 1 and 2).
import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ses-events';
export const CERT_URL =
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
export const OTHER_CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fedcba9876543210.pem';

export interface TestAuthority {
  /** The CA's certificate (PEM). */
  caPem: string;
  /** A leaf certificate the CA issued for `sns.amazonaws.com`, valid from about now for `days` days. */
  certPem: string;
  /** The leaf's private key (PEM), which signs messages. */
  keyPem: string;
  /** Another key and certificate from the same CA: a valid certificate that did not sign the message. */
  otherCertPem: string;
  otherKeyPem: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, days: number): void {
  openssl(dir, ['genrsa', '-out', `${name}.key`, '2048']);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', '/CN=sns.amazonaws.com', '-out', `${name}.csr`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    String(days),
    '-sha256',
    '-out',
    `${name}.pem`,
  ]);
}

/** Builds a CA and two leaf certificates with the openssl binary (about a second). */
export function createTestAuthority(days = 30): TestAuthority {
  const dir = mkdtempSync(join(tmpdir(), 'sns-ca-'));
  try {
    openssl(dir, ['genrsa', '-out', 'ca.key', '2048']);
    openssl(dir, [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=Test SNS CA',
      '-days',
      '60',
      '-out',
      'ca.pem',
    ]);
    issue(dir, 'leaf', days);
    issue(dir, 'other', days);
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return {
      caPem: read('ca.pem'),
      certPem: read('leaf.pem'),
      keyPem: read('leaf.key'),
      otherCertPem: read('other.pem'),
      otherKeyPem: read('other.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type SnsFields = Record<string, string | null | undefined>;

const SIGNED = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
} as Record<string, string[]>;

/**
 * The string SNS signs, written independently of the code under test: `key\nvalue\n` per present field, in order.
 * A field that is absent or null is left out; an empty string is kept.
 */
export function stringToSign(fields: SnsFields): string {
  return (SIGNED[fields.Type as string] ?? [])
    .filter((key) => fields[key] !== undefined && fields[key] !== null)
    .map((key) => `${key}\n${fields[key]}\n`)
    .join('');
}

/** Adds SignatureVersion, SigningCertURL and Signature (SHA1withRSA for version 1, SHA256withRSA for 2). */
export function signSns(
  fields: SnsFields,
  keyPem: string,
  options: { version?: '1' | '2'; certUrl?: string } = {},
): SnsFields {
  const version = options.version ?? '2';
  const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(stringToSign(fields), 'utf8'), keyPem);
  return {
    ...fields,
    SignatureVersion: version,
    Signature: signature.toString('base64'),
    SigningCertURL: options.certUrl ?? CERT_URL,
  };
}

let counter = 0;

/** A Notification carrying `message` (an SES event object, or text), stamped `at` (epoch ms). */
export function notification(message: unknown, at: number, over: SnsFields = {}): SnsFields {
  counter++;
  return {
    Type: 'Notification',
    MessageId: `2f1a6b3e-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    TopicArn: TOPIC_ARN,
    Subject: 'Amazon SES Email Event Notification',
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: new Date(at).toISOString(),
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:abc`,
    ...over,
  };
}

/** A SubscriptionConfirmation (or UnsubscribeConfirmation) for `topicArn`, stamped `at`. */
export function confirmation(
  at: number,
  topicArn = TOPIC_ARN,
  type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation' = 'SubscriptionConfirmation',
): SnsFields {
  counter++;
  const token = `2336412f37fb687f5d51e6e2425c464de${counter}`;
  const region = topicArn.split(':')[3];
  return {
    Type: type,
    MessageId: `165545c9-2a5c-472c-8df2-${String(counter).padStart(12, '0')}`,
    Token: token,
    TopicArn: topicArn,
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
    Timestamp: new Date(at).toISOString(),
  };
}

/** Serialises as SNS does (JSON text; SNS pretty-prints, which changes nothing for the signature). */
export function snsBody(fields: SnsFields): string {
  return JSON.stringify(fields, null, 2);
}
