// SNS topic ARNs and the only URLs trusted for a topic: its region's SNS host, exactly (no suffix match).

export interface SnsTopic {
  arn: string;
  partition: 'aws' | 'aws-cn' | 'aws-us-gov';
  region: string;
  account: string;
  name: string;
}

// Standard topics only: SNS cannot deliver FIFO topics (`.fifo`) to HTTP(S) endpoints.
const TOPIC_ARN = /^arn:(aws|aws-cn|aws-us-gov):sns:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):([A-Za-z0-9_-]{1,256})$/;

/** The parts of a standard SNS topic ARN, or undefined (also for a region that does not belong to the partition). */
export function parseTopicArn(arn: string): SnsTopic | undefined {
  const match = TOPIC_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, name] = match;
  const china = region.startsWith('cn-');
  const gov = region.startsWith('us-gov-');
  if ((partition === 'aws-cn') !== china || (partition === 'aws-us-gov') !== gov) return undefined;
  return { arn, partition: partition as SnsTopic['partition'], region, account, name };
}

/** `https://sns.<region>.amazonaws.com` (`.amazonaws.com.cn` in China): the one origin SNS signs and confirms from. */
export function snsOrigin(topic: SnsTopic): string {
  return `https://sns.${topic.region}.${topic.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

const CERT_FILE = /^[A-Za-z0-9_-]{1,128}\.pem$/;

/**
 * True only for `https://sns.<topic's region>.amazonaws.com/SimpleNotificationService-<id>.pem` spelled exactly so:
 * the string itself is compared, so another host (`…amazonaws.com.evil.example`, an S3 bucket), another scheme, a
 * port, user info, a query, a fragment, percent-escapes or another path are all refused.
 */
export function isSigningCertUrl(url: string, topic: SnsTopic): boolean {
  const prefix = `${snsOrigin(topic)}/SimpleNotificationService-`;
  return url.startsWith(prefix) && CERT_FILE.test(url.slice(prefix.length));
}

/**
 * True only for `https://sns.<topic's region>.amazonaws.com/?Action=ConfirmSubscription&…` whose `TopicArn` and
 * `Token` parameters are the message's own: the URL a genuine SubscriptionConfirmation carries.
 */
export function isSubscribeUrl(url: string, topic: SnsTopic, token: string): boolean {
  const prefix = `${snsOrigin(topic)}/?`;
  if (!url.startsWith(prefix) || !/^[!-~]+$/.test(url) || url.includes('#')) return false;
  const query = new URLSearchParams(url.slice(prefix.length));
  return (
    query.getAll('Action').join() === 'ConfirmSubscription' &&
    query.getAll('TopicArn').join() === topic.arn &&
    query.getAll('Token').join() === token
  );
}
