// Which webhook targets are refused: IP ranges, URL forms and DNS answers, all decided without any connection.
import { describe, expect, it } from 'vitest';
import { addressPolicy } from '../../../src/webhooks/address-policy.js';
import { checkWebhookUrl, guardedLookup, WebhookTargetError } from '../../../src/webhooks/safe-target.js';

const policy = addressPolicy();

describe('addressPolicy', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['10.20.30.40', 'private'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'IETF assignments'],
    ['192.0.2.1', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'IPv6 unspecified'],
    ['::1', 'IPv6 loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['0:0:0:0:0:ffff:c0a8:101', 'IPv4-mapped private, long form'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2002:c0a8:101::1', '6to4 of private'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['not-an-ip', 'not an address'],
  ])('refuses %s (%s)', (address) => {
    expect(policy.isBlocked(address)).toBe(true);
  });

  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['100.63.255.255'],
    ['100.128.0.0'],
    ['172.15.255.255'],
    ['172.32.0.0'],
    ['192.167.255.255'],
    ['223.255.255.255'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'],
    ['2002:808:808::1'],
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:80b::200e'],
  ])('allows public %s', (address) => {
    expect(policy.isBlocked(address)).toBe(false);
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    'http://127.0.0.1/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://2130706433/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1:8443/hooks',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
  ])('refuses %s', (url) => {
    expect(() => checkWebhookUrl(url, policy, false)).toThrow(WebhookTargetError);
  });

  it('refuses what is not an http(s) URL, even with allowPrivate', () => {
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'gopher://example.com/',
      'javascript:alert(1)',
      '/relative',
      '',
    ]) {
      expect(() => checkWebhookUrl(url, policy, true)).toThrow(WebhookTargetError);
    }
  });

  it('leaves names to the guarded lookup and lets private literals through with allowPrivate', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x', policy, false).hostname).toBe('hooks.example.com');
    expect(checkWebhookUrl('http://127.0.0.1:8080/x', policy, true).port).toBe('8080');
    expect(checkWebhookUrl('https://8.8.8.8/x', policy, false).hostname).toBe('8.8.8.8');
  });
});

describe('guardedLookup', () => {
  function lookup(answers: { address: string; family: number }[], withPolicy = true) {
    const calls: string[] = [];
    const fn = guardedLookup(
      async (host) => {
        calls.push(host);
        return answers;
      },
      withPolicy ? policy : null,
    );
    const run = (options: { all?: boolean; family?: number }) =>
      new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
        fn('hooks.example.com', options, (err, address, family) => resolve({ err, address, family })),
      );
    return { run, calls };
  }

  it('refuses a name when any answer is private, even if another is public', async () => {
    const { run } = lookup([
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    const { err } = await run({ all: true });
    expect(err).toBeInstanceOf(WebhookTargetError);
    expect((await run({})).err).toBeInstanceOf(WebhookTargetError);
  });

  it('refuses IPv4-mapped and NAT64 answers that embed a private address', async () => {
    expect((await lookup([{ address: '::ffff:127.0.0.1', family: 6 }]).run({ all: true })).err).toBeInstanceOf(
      WebhookTargetError,
    );
    expect((await lookup([{ address: '64:ff9b::a9fe:a9fe', family: 6 }]).run({ all: true })).err).toBeInstanceOf(
      WebhookTargetError,
    );
  });

  it('hands the socket exactly the answers it checked, resolving once', async () => {
    const answers = [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ];
    const { run, calls } = lookup(answers);
    expect((await run({ all: true })).address).toEqual(answers);
    expect(await run({})).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect((await run({ family: 6 })).address).toBe('2606:2800:220:1::1');
    expect(calls).toHaveLength(3);
  });

  it('without a policy (allowPrivate) only resolves', async () => {
    expect((await lookup([{ address: '127.0.0.1', family: 4 }], false).run({})).address).toBe('127.0.0.1');
  });
});
