import { describe, expect, it } from 'vitest';
import { embeddings, SPECIAL_ADDRESSES } from '../../test/helpers/egress-targets.ts';
import {
  DEFAULT_EGRESS,
  EgressRefusedError,
  guardedLookup,
  parseEgressPolicy,
  refusedLiteralHost,
  withLoopback,
} from './egress.ts';

const policy = (raw: string) => {
  const { policy, problem } = parseEgressPolicy(raw);
  expect(problem).toBeUndefined();
  return policy;
};

describe('egress policy', () => {
  it('by default reaches public addresses only', () => {
    expect(DEFAULT_EGRESS).toBe('external');
    const defaults = policy(DEFAULT_EGRESS);
    for (const allowed of ['8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8', '2002:808:808::1'])
      expect(defaults.allows(allowed), allowed).toBe(true);
    for (const refused of [
      '10.0.0.5',
      '172.20.1.1',
      '192.168.1.10',
      '100.64.0.1',
      'fd12::1',
      '127.0.0.1',
      '127.8.9.10',
      '::1',
    ])
      expect(defaults.allows(refused), refused).toBe(false);
  });

  it('refuses every special-purpose and metadata address whatever the policy names, even * or a CIDR naming it', () => {
    const policies = [
      '*',
      'external,private,loopback',
      '0.0.0.0/0,::/0',
      ...SPECIAL_ADDRESSES.map((address) => `${address}/${address.includes(':') ? 128 : 32}`),
    ].map(policy);
    for (const address of SPECIAL_ADDRESSES) {
      const forms = address.includes(':') ? [address] : [address, ...embeddings(address)];
      for (const form of forms)
        for (const each of policies)
          expect(each.allows(form), `${form} under ${each.description}`).toBe(false);
    }
  });

  it('judges an IPv6 address that carries an IPv4 one as that IPv4 address', () => {
    for (const form of embeddings('127.0.0.1')) {
      expect(policy('external').allows(form), form).toBe(false);
      expect(policy('external,private').allows(form), form).toBe(false);
      expect(policy('loopback').allows(form), form).toBe(true);
    }
    for (const form of embeddings('10.1.2.3')) {
      expect(policy('external').allows(form), form).toBe(false);
      expect(policy('private').allows(form), form).toBe(true);
      expect(policy('10.1.0.0/16').allows(form), form).toBe(true);
    }
    for (const form of embeddings('8.8.8.8')) expect(policy('external').allows(form), form).toBe(true);
  });

  it('reads an address in any spelling getaddrinfo accepts as the address it spells', () => {
    const external = policy('external');
    for (const spelling of [
      '127.1',
      '0x7f.1',
      '0177.0.0.1',
      '2130706433',
      '0x7f000001',
      '0251.0376.0251.0376',
    ])
      expect(external.allows(spelling), spelling).toBe(false);
    expect(external.allows('not-an-address')).toBe(false);
  });

  it('opens private and loopback addresses only when named, or by a CIDR inside them', () => {
    const cidr = policy('external, 10.1.0.0/16');
    expect(cidr.allows('10.1.200.3')).toBe(true);
    expect(cidr.allows('10.2.0.1')).toBe(false);
    expect(policy('127.0.0.1/32').allows('127.0.0.1')).toBe(true);
    expect(policy('127.0.0.1/32').allows('127.0.0.2')).toBe(false);
    const all = policy('*');
    for (const address of ['8.8.8.8', '10.0.0.1', '100.64.0.1', 'fd12::1', '127.0.0.1', '::1'])
      expect(all.allows(address), address).toBe(true);
  });

  it('adds loopback to a policy for the demo, keeping what it had', () => {
    const demo = withLoopback(policy('external,10.1.0.0/16'));
    expect(demo.description).toBe('external,10.1.0.0/16,loopback');
    for (const address of ['127.0.0.1', '::1', '10.1.0.1', '8.8.8.8'])
      expect(demo.allows(address)).toBe(true);
    expect(demo.allows('192.168.0.1')).toBe(false);
    expect(demo.allows('169.254.169.254')).toBe(false);
  });

  it('names what it cannot read', () => {
    expect(parseEgressPolicy('external,intranet,10.0.0.0/33,10.1/16,10.0.0.0/x').problem).toBe(
      'expected external, private, loopback, * or CIDRs such as 10.1.0.0/16, got "intranet", "10.0.0.0/33", "10.1/16", "10.0.0.0/x"',
    );
    expect(parseEgressPolicy(' , ').problem).toMatch(/at least one/);
  });

  it('refuses an address or localhost written in a URL host before any connection', () => {
    const external = policy('external');
    expect(refusedLiteralHost('127.0.0.1', external)).toBeInstanceOf(EgressRefusedError);
    expect(refusedLiteralHost('[::1]', external)?.address).toBe('::1');
    expect(refusedLiteralHost('[::ffff:7f00:1]', external)?.address).toBe('::ffff:7f00:1');
    for (const name of ['localhost', 'localhost.', 'LOCALHOST', 'api.localhost', 'api.localhost.'])
      expect(refusedLiteralHost(name, external)?.address, name).toBe('127.0.0.1');
    expect(refusedLiteralHost('8.8.8.8', external)).toBeUndefined();
    expect(refusedLiteralHost('169.254.169.254', policy('*'))).toBeInstanceOf(EgressRefusedError);
    // A name is judged when it is resolved, not here.
    expect(refusedLiteralHost('hooks.example.test', external)).toBeUndefined();
  });

  it('fails a lookup whose name resolves to a refused address without naming the address, and passes an allowed one through', async () => {
    const lookup = (raw: string) =>
      new Promise<unknown>((resolve, reject) =>
        guardedLookup(policy(raw))('localhost', { all: true }, (error, addresses) =>
          error ? reject(error) : resolve(addresses),
        ),
      );
    const refused = await lookup('external').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EgressRefusedError);
    expect((refused as EgressRefusedError).message).toBe(
      'localhost does not resolve to an address this server may reach.',
    );
    // The address is for server logs.
    expect(['127.0.0.1', '::1']).toContain((refused as EgressRefusedError).address);
    expect(await lookup('loopback')).toEqual(
      expect.arrayContaining([expect.objectContaining({ family: expect.any(Number) })]),
    );
  });
});
