/**
 * Special-purpose addresses (IANA's IPv4 and IPv6 registries) and cloud metadata endpoints, each
 * as one address inside the range.
 */
export const SPECIAL_ADDRESSES = [
  '0.0.0.0',
  '0.1.2.3',
  '169.254.169.254',
  '169.254.0.1',
  '100.100.100.200',
  '192.0.0.192',
  '192.0.0.1',
  '192.0.2.10',
  '198.18.0.1',
  '198.19.255.254',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '168.63.129.16',
  '::',
  'fd00:ec2::254',
  'fe80::1',
  'fe80::a9fe:a9fe',
  'ff02::1',
  '100::1',
  '2001::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:2::1',
  '2001:10::1',
  '2001:db8::1',
  '64:ff9b:1::a9fe:a9fe',
  'fec0::1',
  '5f00::1',
  '3fff::1',
  '::ffff:0:7f00:1',
  // IPv4-compatible (deprecated) and anything else outside 2000::/3 that no registry assigns.
  '::7f00:1',
  '::a9fe:a9fe',
  '4000::1',
];

/** An IPv4 address in the IPv6 forms that carry one: mapped (both spellings), 6to4 and NAT64. */
export function embeddings(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
  return [
    `::ffff:${v4}`,
    `::ffff:${hex(a, b)}:${hex(c, d)}`,
    `0:0:0:0:0:ffff:${hex(a, b)}:${hex(c, d)}`,
    `2002:${hex(a, b)}:${hex(c, d)}::1`,
    `64:ff9b::${v4}`,
    `64:ff9b::${hex(a, b)}:${hex(c, d)}`,
  ];
}
