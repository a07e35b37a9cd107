import { describe, expect, it, vi } from 'vitest';

// A host whose interface carries a public address (a VM with a public IP on eth0): the one
// thing this machine cannot show for real, so only the interface list is made up.
vi.mock('node:os', async (original) => ({
  ...(await original<typeof import('node:os')>()),
  networkInterfaces: () => ({
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: '8.8.4.4', family: 'IPv4', internal: false },
      { address: '2001:4860:4860::8844', family: 'IPv6', internal: false },
    ],
  }),
}));

const { checkWebhookUrl, webhookPolicyFor } = await import('../../core/webhooks/url-policy.ts');
const { resolveWebhookTarget } = await import('../../functions/webhook-dispatcher/ssrf.ts');

const keyed = webhookPolicyFor({ openLocal: false, allowLocalWebhooks: true });

describe("webhooks to this machine's own public address", () => {
  it('are refused at submit, by literal address', () => {
    expect(checkWebhookUrl('https://8.8.4.4/hook', keyed)).toMatch(/this machine's own/);
    expect(checkWebhookUrl('https://[2001:4860:4860::8844]/hook', keyed)).toMatch(
      /this machine's own/,
    );
    expect(checkWebhookUrl('https://8.8.8.8/hook', keyed)).toBeUndefined();
  });

  it('are refused at delivery when a name resolves to one', async () => {
    const resolver = vi.fn(() => Promise.resolve([{ address: '8.8.4.4', family: 4 as const }]));
    await expect(
      resolveWebhookTarget('https://hooks.example.com/x', keyed, resolver),
    ).rejects.toThrow(/this machine's own/);
  });
});
