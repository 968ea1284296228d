import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

/**
 * Which addresses an outbound request configured by a user (a webhook URL, a PMS base URL) may
 * reach. Named classes as Gitea's webhook ALLOWED_HOST_LIST has them, plus CIDRs: `external` (public
 * unicast), `private` (RFC 1918, shared 100.64/10, IPv6 unique-local), `loopback`, `*` (all three).
 * Special-purpose addresses (IANA's registries: link-local, unspecified, documentation, benchmarking,
 * multicast, reserved…) and cloud metadata endpoints are refused whatever the policy says.
 */
export interface EgressPolicy {
  /** The setting as given, for messages. */
  readonly description: string;
  allows(address: string): boolean;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type NetworkClass = 'loopback' | 'private' | 'special' | 'external';

/**
 * Metadata services at addresses no registry marks special (IPv4 link-local is special already):
 * Alibaba Cloud, Oracle Cloud, AWS over IPv6, Azure's WireServer.
 */
const METADATA = ['100.100.100.200/32', '192.0.0.192/32', 'fd00:ec2::254/128', '168.63.129.16/32'].map(
  (cidr) => ipaddr.parseCIDR(cidr),
);
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/**
 * The address a request to `address` is judged as: an IPv6 address that carries an IPv4 one
 * (IPv4-mapped ::ffff:0:0/96, 6to4 2002::/16, NAT64 64:ff9b::/96, which DNS64 hands out for every
 * IPv4-only name on an IPv6-only network) is judged as that IPv4 address.
 */
function embeddedIPv4(address: Address): ipaddr.IPv4 | undefined {
  if (address.kind() === 'ipv4') return undefined;
  const v6 = address as ipaddr.IPv6;
  const [, p1 = 0, p2 = 0, , , , p6 = 0, p7 = 0] = v6.parts;
  const fromWords = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const range: string = v6.range();
  if (range === 'ipv4Mapped') return v6.toIPv4Address();
  if (range === '6to4') return fromWords(p1, p2);
  if (range === 'rfc6052' && v6.match(NAT64)) return fromWords(p6, p7);
  return undefined;
}

/**
 * ipaddr.js names the special-purpose ranges of both IANA registries; every name but these few is
 * special, so a range a newer version adds is refused until someone decides otherwise.
 */
function classify(address: Address): NetworkClass {
  const range: string = address.range();
  if (range === 'loopback') return 'loopback';
  if (range === 'private' || range === 'carrierGradeNat' || range === 'uniqueLocal') return 'private';
  if (range !== 'unicast') return 'special';
  // IPv6 outside 2000::/3 is unassigned or IETF-reserved (IPv4-compatible ::a.b.c.d among them).
  if (address.kind() === 'ipv6' && !address.match(GLOBAL_UNICAST)) return 'special';
  return 'external';
}

function parseAddress(text: string): Address | undefined {
  const bare = text.replace(/^\[|\]$/g, '');
  // ipaddr.js also reads 127.1, 0x7f.1 and 2130706433 as the address they spell, as getaddrinfo does.
  return ipaddr.isValid(bare) ? ipaddr.parse(bare) : undefined;
}

const sameKind = (address: Address, [network]: [Address, number]) => address.kind() === network.kind();
const inRange = (address: Address, cidr: [Address, number]) => sameKind(address, cidr) && address.match(cidr);

/** Where an address stands before any policy: its class, and the address it is judged as. */
function judgeAddress(text: string): { judged: Address; networkClass: NetworkClass } | undefined {
  const address = parseAddress(text);
  if (!address) return undefined;
  const judged = embeddedIPv4(address) ?? address;
  const metadata = METADATA.some((cidr) => inRange(address, cidr) || inRange(judged, cidr));
  return { judged, networkClass: metadata ? 'special' : classify(judged) };
}

const CLASSES = new Set(['external', 'private', 'loopback']);

/** Parses a comma-separated policy; `problem` names what is wrong with it, if anything. */
export function parseEgressPolicy(raw: string): { policy: EgressPolicy; problem?: string } {
  const tokens = raw
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
  const classes = new Set<string>();
  const cidrs: Array<[Address, number]> = [];
  const bad: string[] = [];
  for (const token of tokens) {
    if (token === '*') {
      for (const name of CLASSES) classes.add(name);
      continue;
    }
    if (CLASSES.has(token)) {
      classes.add(token);
      continue;
    }
    const [network, prefix] = token.split('/');
    // Only the canonical forms: 10.1/16 would mean 10.0.0.1/16 to ipaddr.js.
    const family = network ? isIP(network) : 0;
    const bits = Number(prefix);
    if (family === 0 || !/^\d+$/.test(prefix ?? '') || bits > (family === 4 ? 32 : 128)) {
      bad.push(token);
      continue;
    }
    cidrs.push([ipaddr.parse(network!), bits]);
  }
  const policy: EgressPolicy = {
    description: tokens.join(','),
    allows(text: string) {
      const verdict = judgeAddress(text);
      if (!verdict || verdict.networkClass === 'special') return false;
      if (classes.has(verdict.networkClass)) return true;
      const raw = parseAddress(text)!;
      return cidrs.some((cidr) => inRange(verdict.judged, cidr) || inRange(raw, cidr));
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

/**
 * The default of WEBHOOK_ALLOWED_NETWORKS and PMS_ALLOWED_NETWORKS: public addresses only. Private
 * and loopback targets are an operator's explicit choice (on-premise PMSs, development, the demo).
 */
export const DEFAULT_EGRESS = 'external';
export const DEFAULT_EGRESS_POLICY = parseEgressPolicy(DEFAULT_EGRESS).policy;

/** `policy` plus loopback: how `pms demo` reaches the simulated PMSs it runs on 127.0.0.1. */
export function withLoopback(policy: EgressPolicy): EgressPolicy {
  return parseEgressPolicy(`${policy.description},loopback`).policy;
}

/**
 * What a tenant reads both for a name that does not resolve and for one that resolves only where
 * the policy refuses: telling the two apart would say which internal names exist.
 */
export function unreachableNameMessage(host: string): string {
  return `${host} does not resolve to an address this server may reach.`;
}

export class EgressRefusedError extends Error {
  readonly host: string;
  readonly address: string;

  constructor(host: string, address: string, policy: EgressPolicy) {
    // A name's address stays out of the message (it is the tenant's to read): only server logs get it.
    super(
      host === address
        ? `${address} is not an address this server may reach (allowed: ${policy.description}).`
        : unreachableNameMessage(host),
    );
    this.name = 'EgressRefusedError';
    this.host = host;
    this.address = address;
  }
}

/** The refusal for a host given as an IP address (or `localhost`), or undefined when allowed. */
export function refusedLiteralHost(hostname: string, policy: EgressPolicy): EgressRefusedError | undefined {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
  if (parseAddress(host)) return policy.allows(host) ? undefined : new EgressRefusedError(host, host, policy);
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
        const refused = refusedLiteralHost(options.hostname, policy);
        if (refused) return callback(refused, null);
        connect(options, callback);
      },
    });
    dispatchers.set(policy, agent);
  }
  return agent;
}
