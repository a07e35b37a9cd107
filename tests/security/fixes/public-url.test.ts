/**
 * The Host header is never trusted (issue 18): links of generation answers and the OpenAPI
 * `servers` come from the configured public URL (DITSERVE_PUBLIC_URL; the stack's API URL on
 * AWS; the bind address of `ditserve serve`), so a forged Host cannot poison them.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/config.ts';
import { configuredPublicUrl } from '../../../core/public-url.ts';
import type { EmbeddedOptions } from '../../../functions/local/embedded.ts';
import { startTestStack } from '../../e2e/test-stack.ts';
import { makeApi } from '../../api/harness.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { writeTestModel } from '../../helpers/test-model.ts';
import { buildStack, resourcesOf } from '../../infra/helpers.ts';

interface View {
  id: string;
  links: { self: string; cancel: string; events: string };
}
const FORGED = 'evil.example';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

/** A raw HTTP/1.1 request whose Host header says `host` (fetch will not forge it). */
function rawRequest(
  port: number,
  method: string,
  path: string,
  host: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { host, ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('links and servers on the configured public URL', () => {
  it('a forged Host gets links (and servers) on the configured origin and stage', async () => {
    const api = await makeApi({ publicUrl: 'https://api.example.com/prod' });
    const created = await api.app.request(`http://${FORGED}/v1/generations`, {
      method: 'POST',
      headers: {
        host: FORGED,
        authorization: `Bearer ${api.alice}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ prompt: 'a red circle' }),
    });
    expect(created.status).toBe(202);
    const view = (await created.json()) as View;
    expect(view.links.self).toBe(`https://api.example.com/prod/v1/generations/${view.id}`);
    expect(view.links.events).toBe(`${view.links.self}/events`);

    const listed = await api.app.request(`http://${FORGED}/v1/generations`, {
      headers: { host: FORGED, authorization: `Bearer ${api.alice}` },
    });
    expect(JSON.stringify(await listed.json())).not.toContain(FORGED);

    const doc = await api.app.request(`http://${FORGED}/openapi.json`, {
      headers: { host: FORGED },
    });
    const servers = ((await doc.json()) as { servers: { url: string }[] }).servers;
    expect(servers).toEqual([{ url: 'https://api.example.com/prod' }]);
  });

  it('without one, links are relative: the Host is not used, the API Gateway stage still is', async () => {
    const api = await makeApi();
    const post = (env?: unknown) =>
      api.app.request(
        `http://${FORGED}/v1/generations`,
        {
          method: 'POST',
          headers: {
            host: FORGED,
            authorization: `Bearer ${api.alice}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ prompt: 'a red circle' }),
        },
        env,
      );
    const plain = (await (await post()).json()) as View;
    expect(plain.links.self).toBe(`/v1/generations/${plain.id}`);
    // The REST API event as API Gateway sends it: the stage stripped from `path` only.
    const event = { path: '/v1/generations', requestContext: { path: '/prod/v1/generations' } };
    const staged = (await (await post({ event })).json()) as View;
    expect(staged.links.self).toBe(`/prod/v1/generations/${staged.id}`);
  });

  async function embedded(options: Partial<EmbeddedOptions> = {}) {
    const dataDir = await tempDir('ditserve-public-url-');
    const stack = await startTestStack({
      dataDir,
      modelDirs: [await writeTestModel(join(dataDir, 'model'))],
      workers: 0,
      sweepSeconds: 0,
      ...options,
    });
    stops.push(() => stack.stop(1000));
    return stack;
  }

  it('the embedded server: its bind address when unset, the setting when set', async () => {
    const derived = await embedded();
    const answer = await rawRequest(
      derived.port,
      'POST',
      '/v1/generations',
      FORGED,
      JSON.stringify({ prompt: 'a red circle' }),
    );
    expect(answer.status).toBe(202);
    const view = JSON.parse(answer.text) as View;
    expect(view.links.self).toBe(`http://127.0.0.1:${derived.port}/v1/generations/${view.id}`);

    const configured = await embedded({ publicUrl: 'https://images.example.org/ditserve/' });
    const doc = await rawRequest(configured.port, 'GET', '/openapi.json', FORGED);
    expect(JSON.parse(doc.text)).toMatchObject({
      servers: [{ url: 'https://images.example.org/ditserve' }],
    });
  }, 60_000);

  it('DITSERVE_PUBLIC_URL is checked at start-up', () => {
    expect(configuredPublicUrl({})).toBeUndefined();
    expect(configuredPublicUrl({ DITSERVE_PUBLIC_URL: 'https://a.example/x/' })).toBe(
      'https://a.example/x',
    );
    for (const bad of [
      'not a url',
      'ftp://a.example',
      'https://a.example/?q=1',
      'https://u:p@a.example',
    ]) {
      expect(() => configuredPublicUrl({ DITSERVE_PUBLIC_URL: bad }), bad).toThrow(ConfigError);
    }
  });

  it('the CDK stack gives the API function its own URL, stage included', () => {
    const { template } = buildStack();
    const apiFn = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('Api'),
    );
    const vars = (apiFn?.[1].Properties?.Environment as { Variables: Record<string, unknown> })
      .Variables;
    const url = JSON.stringify(vars.DITSERVE_PUBLIC_URL);
    expect(url).toContain('execute-api');
    expect(url).toMatch(/\/prod"/);
  });
});
