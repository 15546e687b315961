// Which IP addresses the server may connect to when it fetches a URL someone else gave it (a
// client's jwks_uri, an app's privacy policy): public unicast addresses only, so that a URL cannot
// make the platform reach its own network (SSRF). The ranges are the IANA special-purpose
// registries for IPv4 and IPv6 (RFC 6890 and its updates), plus multicast and reserved space.
import { BlockList, isIP } from 'node:net';

/** Special-purpose IPv4 ranges: never a public host. */
const ipv4Ranges: [string, number, string][] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private network'],
  ['100.64.0.0', 10, 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata services live here)'],
  ['172.16.0.0', 12, 'private network'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'AS112'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private network'],
  ['192.175.48.0', 24, 'AS112'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)'],
];

/**
 * Special-purpose IPv6 ranges. IPv4-mapped addresses (`::ffff:a.b.c.d`) are matched against the
 * IPv4 ranges by BlockList itself; NAT64 and 6to4 addresses embed an IPv4 address that is checked
 * separately (see `embeddedIpv4`).
 */
const ipv6Ranges: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing SIDs'],
  ['fc00::', 7, 'unique local (private network)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

const blocked = new BlockList();
const reasons: { list: BlockList; reason: string }[] = [];
for (const [network, prefix, reason] of ipv4Ranges) {
  blocked.addSubnet(network, prefix, 'ipv4');
  const one = new BlockList();
  one.addSubnet(network, prefix, 'ipv4');
  reasons.push({ list: one, reason });
}
for (const [network, prefix, reason] of ipv6Ranges) {
  blocked.addSubnet(network, prefix, 'ipv6');
  const one = new BlockList();
  one.addSubnet(network, prefix, 'ipv6');
  reasons.push({ list: one, reason });
}

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address, if it is one. */
function embeddedIpv4(address: string): string | null {
  const groups = expandIpv6(address);
  if (!groups) return null;
  const toIpv4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return toIpv4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return toIpv4(groups[1]!, groups[2]!);
  return null;
}

/** The eight 16-bit groups of an IPv6 address, or null when it is not one. */
function expandIpv6(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().split('%')[0]!;
  // A trailing dotted IPv4 part counts as two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<number>(zeros).fill(0), ...right];
}

/**
 * Why `address` is not a public unicast address (e.g. "loopback"), or null when it is one. An
 * address that is not an IP address at all is refused too.
 */
export function nonPublicReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (blocked.check(address, type)) {
    return reasons.find(({ list }) => list.check(address, type))?.reason ?? 'special-purpose address';
  }
  const inner = family === 6 ? embeddedIpv4(address) : null;
  if (inner && blocked.check(inner, 'ipv4')) {
    const reason = reasons.find(({ list }) => list.check(inner, 'ipv4'))?.reason ?? 'special-purpose address';
    return `${reason}, through an IPv6 translation address`;
  }
  return null;
}

export const isPublicAddress = (address: string): boolean => nonPublicReason(address) === null;
