// A webhook URL checked for scheme and target, and a DNS lookup that refuses private answers and pins the checked one.
import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { AddressPolicy } from './address-policy.js';

/** Resolves a host name to every address it has (the shape of `dns.promises.lookup(host, { all: true })`). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** Why an attempt was not made: the URL or the address it names is not allowed. Never shown to clients. */
export class WebhookTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
}

/** The URL if its scheme is http(s) and (unless `allowPrivate`) its host is not a private IP literal. */
export function checkWebhookUrl(raw: string, policy: AddressPolicy, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('webhook URL is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookTargetError(`webhook URL scheme ${url.protocol} is not http: or https:`);
  }
  // WHATWG parsing already turned 0x7f.1, 2130706433 and friends into 127.0.0.1; IPv6 literals keep their brackets.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!allowPrivate && isIP(host) !== 0 && policy.isBlocked(host)) {
    throw new WebhookTargetError('webhook URL names a private, loopback or otherwise non-public address');
  }
  return url;
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `http.request`: resolves the name, refuses the whole name when any answer is not public (so a name
 * that mixes public and private answers cannot be raced), and hands the socket exactly the addresses it checked —
 * there is no second resolution between check and connect for a rebinding DNS server to answer differently.
 * With `policy` null (allowPrivate) it only resolves.
 */
export function guardedLookup(resolve: ResolveHost, policy: AddressPolicy | null) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    resolve(hostname).then(
      (answers) => {
        const wanted = answers.filter((a) => !options.family || a.family === options.family);
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
          return;
        }
        if (policy && answers.some((a) => policy.isBlocked(a.address))) {
          callback(new WebhookTargetError('webhook host resolves to a private or otherwise non-public address'), []);
          return;
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (err: Error) => callback(err, []),
    );
  };
}
