// Sample SES events, signed as SNS signs them (signature version 2), posted to POST /bulk-email/events/sns.
import { randomUUID, sign } from 'node:crypto';

export interface SnsSigner {
  /** The private key whose certificate the app's fetchCertificate serves (demo only: SNS signs real messages). */
  keyPem: string;
  topicArn: string;
  /** Must look like SNS's: https://sns.<region>.amazonaws.com/SimpleNotificationService-<id>.pem */
  certUrl: string;
}

/** One SES event in the shape SES publishes (only the fields the router reads). */
export function sampleEvent(kind: 'Delivery' | 'Bounce' | 'Complaint', messageId: string, address: string) {
  const at = new Date().toISOString();
  const mail = { timestamp: at, messageId, destination: [address] };
  if (kind === 'Delivery') {
    return { eventType: kind, mail, delivery: { timestamp: at, recipients: [address], smtpResponse: '250 2.0.0 OK' } };
  }
  if (kind === 'Bounce') {
    const bouncedRecipients = [{ emailAddress: address, status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 unknown' }];
    const bounce = { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients, timestamp: at };
    return { eventType: kind, mail, bounce: { ...bounce, feedbackId: `fb-${messageId}` } };
  }
  const complaint = { complainedRecipients: [{ emailAddress: address }], complaintFeedbackType: 'abuse' };
  return { eventType: kind, mail, complaint: { ...complaint, timestamp: at, feedbackId: `fc-${messageId}` } };
}

/** An SNS Notification carrying `event`, with the signature SNS would give it. */
export function snsNotification(event: unknown, signer: SnsSigner): Record<string, string> {
  const fields: Record<string, string> = {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: signer.topicArn,
    Message: JSON.stringify(event),
    Timestamp: new Date().toISOString(),
  };
  const signed = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'].map((k) => `${k}\n${fields[k]}\n`).join('');
  const signature = sign('sha256', Buffer.from(signed, 'utf8'), signer.keyPem).toString('base64');
  return { ...fields, SignatureVersion: '2', Signature: signature, SigningCertURL: signer.certUrl };
}

/**
 * Reads a job's results and posts, for its first three sent entries: a delivery, a hard bounce and a complaint.
 * Returns what each post answered.
 */
export async function postSampleEvents(
  baseUrl: string,
  jobId: string,
  headers: Record<string, string>,
  signer: SnsSigner,
): Promise<number[]> {
  const page = (await (await fetch(`${baseUrl}/${jobId}/results?status=SUCCESS&limit=3`, { headers })).json()) as {
    data: { results: { message_id: string; recipients: string[] }[] };
  };
  const kinds = ['Delivery', 'Bounce', 'Complaint'] as const;
  const statuses: number[] = [];
  for (const [i, result] of page.data.results.entries()) {
    const event = sampleEvent(kinds[i], result.message_id, result.recipients[0]);
    const res = await fetch(`${baseUrl}/events/sns`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
      body: JSON.stringify(snsNotification(event, signer)),
    });
    statuses.push(res.status);
  }
  return statuses;
}
