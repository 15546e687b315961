// Which addresses the outbound fetcher may connect to: every special-purpose range is refused,
// whatever its spelling (IPv4-mapped, NAT64, 6to4, compressed or not), and public addresses pass.
import { describe, expect, it } from 'vitest';
import { isPublicAddress, nonPublicReason } from '../src/core/outbound/addresses.js';

describe('outbound address policy', () => {
  it.each([
    ['0.0.0.0', /this network/],
    ['10.1.2.3', /private/],
    ['100.64.0.1', /shared address space/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['169.254.169.254', /link-local/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.0.0.8', /IETF/],
    ['192.0.2.10', /documentation/],
    ['192.88.99.1', /6to4 relay/],
    ['192.168.1.1', /private/],
    ['198.18.0.1', /benchmarking/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['224.0.0.251', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['0:0:0:0:0:0:0:1', /loopback/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:169.254.169.254', /link-local/],
    ['::ffff:10.0.0.1', /private/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['64:ff9b::a9fe:a9fe', /link-local.*, through an IPv6 translation address/],
    ['64:ff9b::127.0.0.1', /loopback, through an IPv6 translation address/],
    ['2002:7f00:1::', /loopback, through an IPv6 translation address/],
    ['2002:c0a8:101::1', /private network, through an IPv6 translation address/],
    ['2001:db8::1', /documentation/],
    ['2001::1', /IETF/],
    ['100::1', /discard/],
    ['fc00::1', /unique local/],
    ['fd12:3456:789a::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['localhost', /not an IP address/],
    ['', /not an IP address/],
  ])('refuses %s', (address, reason) => {
    expect(nonPublicReason(address)).toMatch(reason);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.167.255.255',
    '192.169.0.1',
    '193.51.24.1',
    '223.255.255.254',
    '2a01:e0a:1::1',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('accepts the public address %s', (address) => {
    expect(nonPublicReason(address)).toBeNull();
    expect(isPublicAddress(address)).toBe(true);
  });
});
