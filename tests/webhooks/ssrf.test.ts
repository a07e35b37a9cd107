import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../core/webhooks/ip-ranges.ts';
import { checkWebhookUrl, assertWebhookUrl } from '../../core/webhooks/url-policy.ts';
import {
  resolveWebhookTarget,
  WebhookDnsError,
  type Resolver,
} from '../../functions/webhook-dispatcher/ssrf.ts';

const refused: readonly [string, RegExp][] = [
  // IPv4
  ['0.0.0.0', /this network/],
  ['10.1.2.3', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['100.64.0.1', /carrier-grade NAT/],
  ['100.127.255.254', /carrier-grade NAT/],
  ['169.254.169.254', /cloud metadata/],
  ['169.254.170.2', /cloud metadata/],
  ['100.100.100.200', /cloud metadata/],
  ['169.254.1.1', /link-local/],
  ['192.0.0.8', /IETF/],
  ['192.0.2.1', /documentation/],
  ['198.51.100.7', /documentation/],
  ['203.0.113.9', /documentation/],
  ['198.18.0.1', /benchmarking/],
  ['198.19.255.1', /benchmarking/],
  ['192.88.99.1', /6to4 relay/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['240.0.0.1', /reserved/],
  ['255.255.255.255', /broadcast/],
  // IPv6
  ['::', /unspecified/],
  ['fd00:ec2::254', /cloud metadata/],
  ['fc00::1', /unique local/],
  ['fd12:3456::1', /unique local/],
  ['fe80::1', /link-local/],
  ['febf::1', /link-local/],
  ['fec0::1', /site-local/],
  ['ff02::1', /multicast/],
  ['2001:db8::1', /documentation/],
  ['3fff::1', /documentation/],
  ['2001::1', /IETF/], // Teredo
  ['2001:2::1', /IETF/], // benchmarking
  ['100::1', /discard/],
  ['64:ff9b:1::1', /NAT64 local-use/],
  ['5f00::1', /SRv6/],
  ['4000::1', /reserved/],
  // IPv4 inside IPv6, every form
  ['::ffff:10.0.0.1', /private \(IPv4-mapped of 10\.0\.0\.1\)/],
  ['::ffff:a9fe:a9fe', /cloud metadata \(IPv4-mapped of 169\.254\.169\.254\)/],
  ['::ffff:0:192.168.0.1', /private \(IPv4-translated/],
  ['::10.0.0.1', /private \(IPv4-compatible/],
  ['::0.0.0.2', /this network/],
  ['64:ff9b::169.254.169.254', /cloud metadata \(NAT64/],
  ['64:ff9b::a00:1', /private \(NAT64 of 10\.0\.0\.1\)/],
  ['2002:a9fe:a9fe::1', /cloud metadata \(6to4 of 169\.254\.169\.254\)/],
  ['2002:c0a8:0101::', /private \(6to4/],
];

const loopback = [
  '127.0.0.1',
  '127.255.255.254',
  '::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '64:ff9b::7f00:1',
  '2002:7f00:1::',
];
const publicAddresses = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:800::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '2002:0808:0808::1',
];

describe('address classification', () => {
  it.each(refused)('refuses %s', (address, reason) => {
    const verdict = classifyAddress(address);
    expect(verdict.kind).toBe('blocked');
    expect(verdict.kind === 'blocked' && verdict.range).toMatch(reason);
  });

  it.each(loopback)('sees %s as loopback', (address) => {
    expect(classifyAddress(address)).toEqual({ kind: 'loopback' });
  });

  it.each(publicAddresses)('allows public %s', (address) => {
    expect(classifyAddress(address)).toEqual({ kind: 'public' });
  });

  it('does not take zone ids or names for addresses', () => {
    expect(classifyAddress('fe80::1%eth0')).toEqual({ kind: 'invalid' });
    expect(classifyAddress('example.com')).toEqual({ kind: 'invalid' });
    expect(classifyAddress('1.2.3')).toEqual({ kind: 'invalid' });
  });
});

describe('checkWebhookUrl (submit time, no DNS)', () => {
  it('accepts ordinary https URLs', () => {
    expect(checkWebhookUrl('https://hooks.example.com/ditserve?x=1')).toBeUndefined();
    expect(checkWebhookUrl('https://8.8.8.8:8443/hook')).toBeUndefined();
    expect(checkWebhookUrl('https://[2606:4700:4700::1111]/hook')).toBeUndefined();
  });

  it.each([
    ['http://hooks.example.com/', /only https/],
    ['ftp://hooks.example.com/', /only https/],
    ['not a url', /not a valid URL/],
    ['https://user:pw@hooks.example.com/', /credentials/],
    ['https://localhost/', /loopback/],
    ['https://api.localhost/', /loopback/],
    ['https://127.0.0.1/', /loopback/],
    ['https://[::1]/', /loopback/],
    ['https://[::ffff:127.0.0.1]/', /loopback/],
    ['https://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['https://[fd00:ec2::254]/', /cloud metadata/],
    ['https://[::ffff:169.254.169.254]/', /cloud metadata/],
    ['https://10.0.0.1/', /private/],
    ['https://metadata/', /single-label/],
    ['https://metadata.google.internal/', /internal/],
    ['https://printer.local/', /internal/],
    // The URL parser normalises these IPv4 spellings to 127.0.0.1 / 169.254.169.254.
    ['https://2130706433/', /loopback/],
    ['https://0x7f.1/', /loopback/],
    ['https://0177.0.0.1/', /loopback/],
    ['https://0xa9fea9fe/', /cloud metadata/],
    ['https://localhost./', /loopback/],
    [`https://example.com/${'a'.repeat(2048)}`, /longer than/],
  ])('refuses %s', (url, reason) => {
    expect(checkWebhookUrl(url)).toMatch(reason);
  });

  it('allows http and https to loopback only with allowLoopbackHttp', () => {
    const local = { allowLoopbackHttp: true };
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', local)).toBeUndefined();
    expect(checkWebhookUrl('http://localhost:8080/hook', local)).toBeUndefined();
    expect(checkWebhookUrl('http://[::1]:8080/hook', local)).toBeUndefined();
    expect(checkWebhookUrl('https://localhost/hook', local)).toBeUndefined();
    expect(checkWebhookUrl('http://hooks.example.com/', local)).toMatch(/loopback only/);
    expect(checkWebhookUrl('http://10.0.0.1/', local)).toMatch(/loopback only/);
    expect(checkWebhookUrl('https://10.0.0.1/', local)).toMatch(/private/);
  });

  it('assertWebhookUrl throws a 422 webhook_url_refused with the reason', () => {
    expect(() => {
      assertWebhookUrl('https://10.0.0.1/');
    }).toThrow(
      expect.objectContaining({
        code: 'webhook_url_refused',
        message: expect.stringMatching(/private/) as unknown,
      }),
    );
  });
});

describe('resolveWebhookTarget (delivery time, with DNS)', () => {
  const resolveTo =
    (...addresses: string[]): Resolver =>
    () =>
      Promise.resolve(
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );

  it('refuses a public-looking name that resolves to 127.0.0.1', async () => {
    await expect(
      resolveWebhookTarget('https://rebind.example.com/hook', {}, resolveTo('127.0.0.1')),
    ).rejects.toMatchObject({
      code: 'webhook_url_refused',
      message: expect.stringMatching(/resolves to 127\.0\.0\.1: loopback/) as unknown,
    });
  });

  it('refuses a name when any of its addresses is refused', async () => {
    await expect(
      resolveWebhookTarget(
        'https://mixed.example.com/',
        {},
        resolveTo('8.8.8.8', '::ffff:169.254.169.254'),
      ),
    ).rejects.toMatchObject({ code: 'webhook_url_refused' });
  });

  it('pins the first address of a name that resolves only to public addresses', async () => {
    const target = await resolveWebhookTarget(
      'https://ok.example.com/hook',
      {},
      resolveTo('2606:4700:4700::1111', '1.1.1.1'),
    );
    expect(target).toMatchObject({ address: '2606:4700:4700::1111', family: 6 });
    expect(target.url.hostname).toBe('ok.example.com');
  });

  it('uses an IP literal as is, without asking DNS', async () => {
    const never: Resolver = () => Promise.reject(new Error('DNS asked'));
    await expect(resolveWebhookTarget('https://[2606:4700::1]/', {}, never)).resolves.toMatchObject(
      { address: '2606:4700::1', family: 6 },
    );
  });

  it('reports DNS failure as retryable, not as a refusal', async () => {
    const failing: Resolver = () => Promise.reject(new Error('ENOTFOUND'));
    await expect(
      resolveWebhookTarget('https://gone.example.com/', {}, failing),
    ).rejects.toBeInstanceOf(WebhookDnsError);
    await expect(
      resolveWebhookTarget('https://empty.example.com/', {}, resolveTo()),
    ).rejects.toBeInstanceOf(WebhookDnsError);
  });
});
