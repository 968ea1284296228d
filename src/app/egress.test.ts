import { describe, expect, it } from 'vitest';
import { EgressRefusedError, guardedLookup, parseEgressPolicy, refusedLiteralHost } from './egress.ts';

const policy = (raw: string) => {
  const { policy, problem } = parseEgressPolicy(raw);
  expect(problem).toBeUndefined();
  return policy;
};

describe('egress policy', () => {
  it('by default reaches public, private and loopback addresses, never link-local or special ones', () => {
    const defaults = policy('external,private,loopback');
    for (const allowed of [
      '8.8.8.8',
      '2001:4860:4860::8888',
      '10.0.0.5',
      '172.20.1.1',
      '192.168.1.10',
      '100.64.0.1',
      'fd12::1',
      '127.0.0.1',
      '::1',
    ])
      expect(defaults.allows(allowed), allowed).toBe(true);
    for (const refused of [
      '169.254.169.254',
      'fe80::1',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      'ff02::1',
      '240.0.0.1',
      '255.255.255.255',
      '64:ff9b::a9fe:a9fe',
    ])
      expect(defaults.allows(refused), refused).toBe(false);
  });

  it('judges an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(policy('external').allows('::ffff:8.8.8.8')).toBe(true);
    expect(policy('external').allows('::ffff:127.0.0.1')).toBe(false);
    expect(policy('external,private,loopback').allows('::ffff:169.254.169.254')).toBe(false);
  });

  it('with external only, refuses private and loopback addresses', () => {
    const external = policy('external');
    expect(external.allows('93.184.216.34')).toBe(true);
    for (const refused of ['10.0.0.5', '192.168.1.10', 'fc00::1', '127.0.0.1', '::1'])
      expect(external.allows(refused), refused).toBe(false);
  });

  it('lets a CIDR open exactly its range, and * everything', () => {
    const cidr = policy('external, 10.1.0.0/16');
    expect(cidr.allows('10.1.200.3')).toBe(true);
    expect(cidr.allows('10.2.0.1')).toBe(false);
    expect(policy('169.254.169.254/32').allows('169.254.169.254')).toBe(true);
    expect(policy('*').allows('169.254.169.254')).toBe(true);
  });

  it('names what it cannot read', () => {
    expect(parseEgressPolicy('external,intranet,10.0.0.0/33').problem).toBe(
      'expected external, private, loopback, * or CIDRs such as 10.1.0.0/16, got "intranet", "10.0.0.0/33"',
    );
    expect(parseEgressPolicy(' , ').problem).toMatch(/at least one/);
  });

  it('refuses an address or localhost written in a URL host before any connection', () => {
    const external = policy('external');
    expect(refusedLiteralHost('127.0.0.1', external)).toBeInstanceOf(EgressRefusedError);
    expect(refusedLiteralHost('[::1]', external)?.address).toBe('::1');
    expect(refusedLiteralHost('localhost', external)?.host).toBe('localhost');
    expect(refusedLiteralHost('8.8.8.8', external)).toBeUndefined();
    // A name is judged when it is resolved, not here.
    expect(refusedLiteralHost('hooks.example.test', external)).toBeUndefined();
  });

  it('fails a lookup whose name resolves to a refused address, and passes an allowed one through', async () => {
    const lookup = (raw: string) =>
      new Promise<unknown>((resolve, reject) =>
        guardedLookup(policy(raw))('localhost', { all: true }, (error, addresses) =>
          error ? reject(error) : resolve(addresses),
        ),
      );
    await expect(lookup('external')).rejects.toThrow(
      /localhost resolves to .* not an address this server may reach/,
    );
    expect(await lookup('loopback')).toEqual(
      expect.arrayContaining([expect.objectContaining({ family: expect.any(Number) })]),
    );
  });
});
