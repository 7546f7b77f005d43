// Which IP addresses a webhook may connect to: public unicast only, unless the app allows private targets.
import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges that are not public unicast (IANA special-purpose registry): "this network", private, CGNAT, loopback,
 * link-local (cloud metadata at 169.254.169.254), IETF protocol assignments, documentation, 6to4 relay, benchmarking,
 * multicast, reserved and broadcast.
 */
const IPV4_BLOCKED: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/**
 * IPv6 ranges that are not public unicast: unspecified and loopback, IPv4-compatible (deprecated), local-use NAT64,
 * discard-only, IETF protocol assignments (Teredo, benchmarking, ORCHID), documentation, unique-local, link-local,
 * site-local (deprecated) and multicast. IPv4-mapped addresses (::ffff:a.b.c.d) are judged by their IPv4 address
 * (BlockList does that itself); NAT64 (64:ff9b::/96) and 6to4 (2002::/16) by the IPv4 address they embed, below.
 */
const IPV6_BLOCKED: readonly [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

function ipv4Words(address: string): [string, string] {
  const [a, b, c, d] = address.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

function buildBlockList(): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of IPV4_BLOCKED) {
    list.addSubnet(address, prefix, 'ipv4');
    const [high, low] = ipv4Words(address);
    list.addSubnet(`64:ff9b::${high}:${low}`, 96 + prefix, 'ipv6'); // NAT64 well-known prefix
    list.addSubnet(`2002:${high}:${low}::`, 16 + prefix, 'ipv6'); // 6to4
  }
  for (const [address, prefix] of IPV6_BLOCKED) list.addSubnet(address, prefix, 'ipv6');
  return list;
}

/** Decides whether an address is a private (non-public) target. Built once per delivery engine. */
export interface AddressPolicy {
  /** True when `address` (an IP literal, IPv6 without brackets) must not be connected to. */
  isBlocked(address: string): boolean;
}

export function addressPolicy(): AddressPolicy {
  const list = buildBlockList();
  return {
    isBlocked(address) {
      const family = isIP(address);
      if (family === 0) return true; // not an IP: never connect to something we cannot judge
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
