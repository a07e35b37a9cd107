import { networkInterfaces } from 'node:os';

/**
 * Every way we know to write "this machine" in a webhook URL, on `port` (where a counting
 * listener waits): what the WHATWG URL parser turns into 127.0.0.1 (short, hex, octal, decimal,
 * dotted-octal, full-width digits, ideographic dots, percent-encoding), IPv6 loopback and the
 * IPv4-mapped, -compatible, NAT64 and 6to4 forms of 127.0.0.1, the unspecified addresses (a
 * connect to 0.0.0.0 or :: reaches local listeners on Linux), loopback names, and the host's own
 * interface addresses. Each in http and https.
 */
export function loopbackUrls(port: number): string[] {
  const hosts = [
    '127.0.0.1',
    '127.1',
    '127.0.1',
    '127.255.255.254',
    '0x7f000001',
    '0x7f.1',
    '2130706433',
    '0177.0.0.1',
    '017700000001',
    '127.000.000.001',
    '%31%32%37.0.0.1',
    '\uff11\uff12\uff17.0.0.1',
    '127\u30020\u30020\u30021',
    '0',
    '0.0.0.0',
    '[::1]',
    '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[0:0:0:0:0:ffff:7f00:1]',
    '[::127.0.0.1]',
    '[64:ff9b::7f00:1]',
    '[2002:7f00:1::]',
    '[::]',
    '[::ffff:0.0.0.0]',
    'localhost',
    'localhost.',
    'LOCALHOST',
    'LocalHost.',
    'foo.localhost',
    'ip6-localhost',
    ...ownAddresses(),
  ];
  return hosts.flatMap((host) =>
    ['http', 'https'].map((scheme) => `${scheme}://${host}:${port}/hooks/ditserve`),
  );
}

/** This machine's non-loopback interface addresses, as URL hosts. */
export function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !a.address.includes('%') && !a.address.startsWith('fe80'))
    .map((a) => (a.family === 'IPv6' ? `[${a.address}]` : a.address));
}

/**
 * Private, shared, link-local and cloud-metadata addresses (nothing listens there; each must be
 * refused at submit time and never be connected to), plus names that are internal by their
 * suffix.
 */
export const PRIVATE_URLS: readonly string[] = [
  'https://10.0.0.1/hook',
  'https://10.255.255.255/hook',
  'https://172.16.0.1/hook',
  'https://172.31.0.1/hook',
  'https://192.168.0.1/hook',
  'https://100.64.0.1/hook',
  'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'http://169.254.169.254/latest/meta-data/',
  'https://169.254.170.2/v2/credentials',
  'https://[fd00:ec2::254]/latest/meta-data/',
  'https://100.100.100.200/latest/meta-data/',
  'https://[fe80::1]/hook',
  'https://[fc00::1]/hook',
  'https://[::ffff:10.0.0.1]/hook',
  'https://[::ffff:a9fe:a9fe]/latest/meta-data/',
  'https://[::ffff:192.168.0.1]/hook',
  'https://[64:ff9b::a9fe:a9fe]/hook',
  'https://0xa9fea9fe/latest/meta-data/',
  'https://2852039166/latest/meta-data/',
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://printer.local/hook',
  'https://router.home.arpa/hook',
  'https://intranet/hook',
  'https://user:pass@hooks.example.com/hook',
  'ftp://hooks.example.com/hook',
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_INFO',
];

/** Addresses a public-looking name may resolve to, none of which may be called. */
export const REFUSED_ANSWERS: readonly (readonly string[])[] = [
  ['127.0.0.1'],
  ['127.0.0.53'],
  ['::1'],
  ['::ffff:127.0.0.1'],
  ['0.0.0.0'],
  ['::'],
  ['10.0.0.5'],
  ['192.168.1.10'],
  ['169.254.169.254'],
  ['fd00:ec2::254'],
  ['::ffff:169.254.169.254'],
  ['64:ff9b::7f00:1'],
  // One public answer does not make a name safe when another is private.
  ['93.184.215.14', '127.0.0.1'],
  ['2606:4700:4700::1111', '::1'],
];
