import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';

/**
 * Which addresses an outbound request configured by a user (a webhook URL, a PMS base URL) may
 * reach. Named classes as Gitea's webhook ALLOWED_HOST_LIST has them, plus CIDRs: `external` (public unicast),
 * `private` (RFC 1918, shared 100.64/10, IPv6 unique-local), `loopback`, `*` (anything). Link-local
 * (169.254/16 holds the cloud metadata endpoints), unspecified, multicast and reserved addresses
 * are reachable only through `*` or a CIDR that names them.
 */
export interface EgressPolicy {
  /** The setting as given, for messages. */
  readonly description: string;
  allows(address: string): boolean;
}

type NetworkClass = 'loopback' | 'private' | 'special' | 'external';

function blockList(ranges: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);
const SPECIAL = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  // NAT64 embeds an IPv4 address of any kind.
  ['64:ff9b::', 96, 'ipv6'],
]);

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

function classify(address: string, family: 'ipv4' | 'ipv6'): NetworkClass {
  if (LOOPBACK.check(address, family)) return 'loopback';
  if (SPECIAL.check(address, family)) return 'special';
  if (PRIVATE.check(address, family)) return 'private';
  return 'external';
}

const CLASSES = new Set(['external', 'private', 'loopback']);

/** Parses a comma-separated policy; `problem` names what is wrong with it, if anything. */
export function parseEgressPolicy(raw: string): { policy: EgressPolicy; problem?: string } {
  const tokens = raw
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
  const classes = new Set<string>();
  const cidrs = new BlockList();
  const bad: string[] = [];
  for (const token of tokens) {
    if (token === '*' || CLASSES.has(token)) {
      classes.add(token);
      continue;
    }
    const [network, prefix] = token.split('/');
    const family = network ? isIP(network) : 0;
    const bits = Number(prefix);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      bad.push(token);
      continue;
    }
    cidrs.addSubnet(network!, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  const policy: EgressPolicy = {
    description: tokens.join(','),
    allows(raw: string) {
      const { address, family } = normalise(raw);
      if (classes.has('*') || cidrs.check(address, family)) return true;
      return classes.has(classify(address, family));
    },
  };
  const problem =
    bad.length > 0
      ? `expected external, private, loopback, * or CIDRs such as 10.1.0.0/16, got ${bad.map((b) => `"${b}"`).join(', ')}`
      : tokens.length === 0
        ? 'expected at least one of external, private, loopback, * or a CIDR'
        : undefined;
  return { policy, problem };
}

/** The default of WEBHOOK_ALLOWED_NETWORKS and PMS_ALLOWED_NETWORKS: anything but link-local and special addresses. */
export const DEFAULT_EGRESS = 'external,private,loopback';
export const DEFAULT_EGRESS_POLICY = parseEgressPolicy(DEFAULT_EGRESS).policy;

export class EgressRefusedError extends Error {
  readonly host: string;
  readonly address: string;

  constructor(host: string, address: string, policy: EgressPolicy) {
    super(
      host === address
        ? `${address} is not an address this server may reach (allowed: ${policy.description}).`
        : `${host} resolves to ${address}, not an address this server may reach (allowed: ${policy.description}).`,
    );
    this.name = 'EgressRefusedError';
    this.host = host;
    this.address = address;
  }
}

/** The refusal for a host given as an IP address (or `localhost`), or undefined when allowed. */
export function refusedLiteralHost(hostname: string, policy: EgressPolicy): EgressRefusedError | undefined {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return policy.allows(host) ? undefined : new EgressRefusedError(host, host, policy);
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return policy.allows('127.0.0.1') ? undefined : new EgressRefusedError(host, '127.0.0.1', policy);
  }
  return undefined;
}

/**
 * A DNS lookup for sockets that refuses a host when any of its addresses is not allowed: the
 * connection then uses the very addresses that were checked, so a name cannot be re-pointed at a
 * refused address between the check and the connect (DNS rebinding).
 */
export function guardedLookup(policy: EgressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((entry) => !policy.allows(entry.address));
      if (refused) return callback(new EgressRefusedError(hostname, refused.address, policy), '', 0);
      if (options.all)
        return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

const dispatchers = new WeakMap<EgressPolicy, Agent>();

/**
 * An HTTP client pool (undici) that connects only where `policy` allows: an address in a URL is
 * checked before connecting (a redirect's too), a name through guardedLookup.
 */
export function egressDispatcher(policy: EgressPolicy): Agent {
  let agent = dispatchers.get(policy);
  if (!agent) {
    const connect = buildConnector({ lookup: guardedLookup(policy) });
    agent = new Agent({
      connect(options, callback) {
        const host = options.hostname.replace(/^\[|\]$/g, '');
        if (isIP(host) && !policy.allows(host))
          return callback(new EgressRefusedError(host, host, policy), null);
        connect(options, callback);
      },
    });
    dispatchers.set(policy, agent);
  }
  return agent;
}
