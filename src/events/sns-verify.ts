// snsVerifier(): is this SNS message genuine, fresh and from a listed topic? Signature versions 1 and 2, node:crypto.
import { type X509Certificate, verify as verifySignature } from 'node:crypto';
import { BulkEmailError } from '../errors.js';
import { CertificateFailure, certificateCache } from './certificate-cache.js';
import { type SnsMessage, parseSnsMessage, snsStringToSign } from './sns-message.js';
import { type SnsTopic, isSigningCertUrl, isSubscribeUrl, parseTopicArn } from './sns-urls.js';

export interface SnsVerifierOptions {
  /** The topics whose messages are accepted (checked before anything else in a message is trusted). */
  topicArns: readonly string[];
  /** Replaces the certificate download; see `certificateCache`. */
  fetchCertificate?: (url: string) => Promise<string>;
  now: () => number;
  /** A message published longer ago than this is refused as stale (default 1 h). */
  maxAgeMs?: number;
  /** A message stamped later than now plus this is refused (default 5 min of clock skew). */
  maxSkewMs?: number;
}

/** Why a message was refused: for logs and tests; the caller only ever sees `INVALID_SIGNATURE`. */
export type SnsRefusal =
  | 'malformed'
  | 'topic-not-listed'
  | 'bad-timestamp'
  | 'stale'
  | 'from-the-future'
  | 'unsupported-signature-version'
  | 'untrusted-certificate-url'
  | 'untrusted-subscribe-url'
  | 'invalid-certificate'
  | 'certificate-not-valid-now'
  | 'bad-signature';

export interface VerifiedSnsMessage {
  message: SnsMessage;
  topic: SnsTopic;
}

export interface SnsVerifier {
  /**
   * Resolves with the message when it is genuine; rejects with `BulkEmailError` `INVALID_SIGNATURE` (403, its
   * `cause` is `{ reason: SnsRefusal, problem }`) when it is not, or `SERVICE_UNAVAILABLE` (503) when the signing
   * certificate could not be fetched (SNS retries a 5xx; a forged message is refused either way).
   */
  verify(body: unknown): Promise<VerifiedSnsMessage>;
  /** How long a verified MessageId must be remembered to catch every replay the freshness check lets through. */
  readonly replayWindowMs: number;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ALGORITHM: Record<string, string> = { '1': 'sha1', '2': 'sha256' };

/** The refusal every check throws. The message says nothing about which check failed. */
export function invalidSignature(reason: SnsRefusal, problem: string): BulkEmailError {
  return new BulkEmailError('INVALID_SIGNATURE', 'The SNS message could not be verified', {
    cause: { reason, problem },
  });
}

function validityOf(cert: X509Certificate): { from: number; to: number } {
  return { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
}

export function snsVerifier(options: SnsVerifierOptions): SnsVerifier {
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const maxSkewMs = options.maxSkewMs ?? 300_000;
  const listed = new Map<string, SnsTopic>();
  for (const arn of options.topicArns) {
    const topic = parseTopicArn(arn);
    if (topic) listed.set(arn, topic);
  }
  const certificates = certificateCache({ fetchCertificate: options.fetchCertificate, now: options.now });

  async function certificateAt(url: string): Promise<X509Certificate> {
    try {
      return await certificates.get(url);
    } catch (err) {
      if (err instanceof CertificateFailure && err.kind === 'invalid')
        throw invalidSignature('invalid-certificate', err.message);
      throw new BulkEmailError('SERVICE_UNAVAILABLE', 'The SNS signing certificate could not be fetched; try again', {
        retryAfter: 5,
        cause: err,
      });
    }
  }

  return {
    replayWindowMs: maxAgeMs + maxSkewMs,
    async verify(body) {
      const parsed = parseSnsMessage(body);
      if (!parsed.ok) throw invalidSignature('malformed', parsed.problem);
      const { message } = parsed;
      const topic = listed.get(message.TopicArn);
      if (!topic)
        throw invalidSignature('topic-not-listed', `topic ${message.TopicArn} is not in events.sns.topicArns`);

      const now = options.now();
      const at = TIMESTAMP.test(message.Timestamp) ? Date.parse(message.Timestamp) : Number.NaN;
      if (Number.isNaN(at)) throw invalidSignature('bad-timestamp', 'Timestamp is not an ISO 8601 UTC time');
      if (at < now - maxAgeMs) throw invalidSignature('stale', `published ${Math.round((now - at) / 1000)} s ago`);
      if (at > now + maxSkewMs) throw invalidSignature('from-the-future', 'Timestamp is in the future');

      const algorithm = ALGORITHM[message.SignatureVersion];
      if (!algorithm) throw invalidSignature('unsupported-signature-version', 'SignatureVersion is not 1 or 2');
      if (!isSigningCertUrl(message.SigningCertURL, topic)) {
        throw invalidSignature('untrusted-certificate-url', "SigningCertURL is not the topic region's SNS host");
      }
      // Only a subscription confirmation's URL is ever visited; an unsubscribe confirmation's is signed and ignored.
      const visited = message.Type === 'SubscriptionConfirmation';
      if (visited && !isSubscribeUrl(message.SubscribeURL ?? '', topic, message.Token ?? '')) {
        throw invalidSignature('untrusted-subscribe-url', "SubscribeURL is not the topic's own confirmation URL");
      }
      if (!BASE64.test(message.Signature)) throw invalidSignature('bad-signature', 'Signature is not base64');

      const cert = await certificateAt(message.SigningCertURL);
      const validity = validityOf(cert);
      if (!(validity.from <= now && now <= validity.to)) {
        throw invalidSignature('certificate-not-valid-now', 'the signing certificate is expired or not yet valid');
      }
      if (cert.publicKey.asymmetricKeyType !== 'rsa') {
        throw invalidSignature('invalid-certificate', 'the signing certificate does not hold an RSA key');
      }
      let genuine = false;
      try {
        genuine = verifySignature(
          algorithm,
          Buffer.from(snsStringToSign(message), 'utf8'),
          cert.publicKey,
          Buffer.from(message.Signature, 'base64'),
        );
      } catch {
        genuine = false;
      }
      if (!genuine) throw invalidSignature('bad-signature', 'the signature does not match the message');
      return { message, topic };
    },
  };
}
