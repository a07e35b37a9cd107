/**
 * Loopback webhook receivers are a feature of the open local mode only (issue 18): with keys
 * required, or bound beyond loopback, the allow-local-webhooks switch (on by default) no longer
 * lets a key holder aim webhooks at this machine — at submit and at delivery — unless the
 * operator lists the receiver in DITSERVE_WEBHOOK_ALLOW_HOSTS.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../../core/auth/api-keys.ts';
import { FsKeyStore } from '../../../core/adapters/local/fs-key-store.ts';
import { MemoryDeliveryLog } from '../../../core/adapters/memory/memory-delivery-log.ts';
import { MemoryKeyStore } from '../../../core/adapters/memory/memory-key-store.ts';
import { buildWebhookEvent } from '../../../core/webhooks/events.ts';
import { generateWebhookSecret } from '../../../core/webhooks/sign.ts';
import {
  checkWebhookUrl,
  webhookPolicyFor,
  webhookPolicyFromEnv,
  type WebhookUrlPolicy,
} from '../../../core/webhooks/url-policy.ts';
import { ConfigError } from '../../../core/config.ts';
import type { EmbeddedOptions } from '../../../functions/local/embedded.ts';
import { startTestStack } from '../../e2e/test-stack.ts';
import { createWebhookHandler } from '../../../functions/webhook-dispatcher/handler.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { writeTestModel } from '../../helpers/test-model.ts';
import { startWebhookReceiver } from '../../e2e/webhook-receiver.ts';
import { RecordingOutbox } from '../../webhooks/harness.ts';
import { makeJob } from '../../webhooks/fixtures.ts';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

async function stack(options: Partial<EmbeddedOptions>) {
  const dataDir = await tempDir('ditserve-webhook-modes-');
  const modelDir = await writeTestModel(join(dataDir, 'model'));
  const { key } = await issueApiKey(new FsKeyStore({ root: dataDir }), 'tenant-a', 'test');
  // allowLoopbackWebhooks true, as `ditserve serve` passes it by default.
  const embedded = await startTestStack({
    dataDir,
    modelDirs: [modelDir],
    workers: 0,
    sweepSeconds: 0,
    ...options,
  });
  stops.push(() => embedded.stop(1000));
  const submit = async (url: string) =>
    fetch(`http://127.0.0.1:${embedded.port}/v1/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a red circle', webhook: { url } }),
    });
  return { embedded, submit };
}

interface Problem {
  code: string;
  errors?: { field: string; message: string }[];
}

describe('submit: 422 webhook.url for loopback receivers unless open-local', () => {
  const receiver = 'http://127.0.0.1:9/hook';

  it.each([
    ['keys required on loopback', { requireKeys: true }],
    ['bound to 0.0.0.0', { host: '0.0.0.0' }],
  ] as const)(
    '%s: refused',
    async (_mode, options) => {
      const { embedded, submit } = await stack(options);
      expect(embedded.auth.kind).toBe('keys');
      for (const url of [receiver, 'http://localhost:9/hook', 'https://[::1]/hook']) {
        const response = await submit(url);
        expect(response.status, url).toBe(422);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const body = (await response.json()) as Problem;
        expect(body.code).toBe('webhook_url_refused');
        expect(body.errors?.[0]?.field).toBe('webhook.url');
      }
    },
    60_000,
  );

  it('the open local mode keeps them', async () => {
    const { embedded, submit } = await stack({});
    expect(embedded.auth.kind).toBe('open');
    expect((await submit(receiver)).status).toBe(202);
  }, 60_000);

  it('an operator’s allow-list lets listed receivers through with keys required', async () => {
    const { submit } = await stack({
      requireKeys: true,
      webhookAllowHosts: '127.0.0.1, localhost',
    });
    expect((await submit(receiver)).status).toBe(202);
    expect((await submit('http://localhost:9/hook')).status).toBe(202);
    // Not listed: still refused.
    expect((await submit('http://127.0.0.2:9/hook')).status).toBe(422);
    expect((await submit('http://[::1]:9/hook')).status).toBe(422);
  }, 60_000);
});

describe('delivery: the dispatcher applies the same policy', () => {
  async function deliverWith(policy: WebhookUrlPolicy, url: string) {
    const keys = new MemoryKeyStore();
    await keys.putWebhookSecrets('acme', [
      { secret: generateWebhookSecret(), createdAt: '2025-01-01T00:00:00Z' },
    ]);
    const log = new MemoryDeliveryLog();
    const handler = createWebhookHandler({ keys, log, outbox: new RecordingOutbox(), policy });
    const job = { ...makeJob('succeeded', { url }), tenant: 'acme', id: 'gen_modes' };
    const event = buildWebhookEvent(job, 'generation.succeeded');
    if (!event) throw new Error('the fixture wants a succeeded event');
    await handler({ Records: [{ messageId: '1', body: JSON.stringify(event) }] } as Parameters<
      typeof handler
    >[0]);
    return (await log.list('acme', 'gen_modes')).map((a) => a.outcome);
  }

  it('keyed: a loopback receiver is never called, even with allow-local-webhooks on', async () => {
    const hook = await startWebhookReceiver({ status: 204 });
    try {
      const keyed = webhookPolicyFor({ openLocal: false, allowLocalWebhooks: true });
      expect(await deliverWith(keyed, hook.url)).toEqual(['refused']);
      expect(webhookPolicyFromEnv({}).allowLoopbackHttp).toBe(false);
      expect(await deliverWith(webhookPolicyFromEnv({}), hook.url)).toEqual(['refused']);
      expect(hook.received).toHaveLength(0);

      const listed = webhookPolicyFromEnv({ DITSERVE_WEBHOOK_ALLOW_HOSTS: '127.0.0.0/8' });
      expect(await deliverWith(listed, hook.url)).toEqual(['delivered']);
      expect(hook.received).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });
});

describe('the allow-list setting', () => {
  it('takes host names, addresses and CIDR ranges of both families', () => {
    const policy = webhookPolicyFor({
      openLocal: false,
      allowHosts: 'hooks.internal, 10.1.0.0/16, fd00::/8, 192.168.1.5',
    });
    expect(checkWebhookUrl('http://hooks.internal/x', policy)).toBeUndefined();
    expect(checkWebhookUrl('http://10.1.2.3:8000/x', policy)).toBeUndefined();
    expect(checkWebhookUrl('http://[fd00::1]/x', policy)).toBeUndefined();
    expect(checkWebhookUrl('https://192.168.1.5/x', policy)).toBeUndefined();
    expect(checkWebhookUrl('http://10.2.0.1/x', policy)).toBeDefined();
    expect(checkWebhookUrl('https://192.168.1.6/x', policy)).toBeDefined();
    expect(checkWebhookUrl('https://other.internal/x', policy)).toBeDefined();
    expect(checkWebhookUrl('ftp://hooks.internal/x', policy)).toBeDefined();
  });

  it('refuses entries it cannot read, at start-up', () => {
    for (const bad of ['10.0.0.0/33', 'exa mple.com', '10.0.0.0/', 'a/b', '::1/129']) {
      expect(() => webhookPolicyFor({ openLocal: false, allowHosts: bad }), bad).toThrow(
        ConfigError,
      );
    }
  });
});
