import { describe, expect, it } from 'vitest';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JobMessage } from '../../core/generation.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import type { FileServing } from '../../functions/api/deps.ts';
import { makeApi, SHIPPED_STEPS } from './harness.ts';
import { bind, expectProblem } from './support.ts';

/** The local files an HTML page loads (src and href), as paths relative to the site root. */
function referencedFiles(html: string): string[] {
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
  // Nothing from elsewhere: no scheme, no protocol-relative URL (the data: favicon aside).
  for (const ref of refs) expect(ref).not.toMatch(/^(?:[a-z]+:(?!,)|\/\/)/);
  return refs.filter((r) => /\.(?:js|css|png)$/.test(r));
}

describe('GET /healthz and /readyz', () => {
  it('healthz answers without a key', async () => {
    const api = await makeApi();
    const response = await api.call(undefined, 'GET', '/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('readyz is 200 when the store and queue answer', async () => {
    const api = await makeApi();
    const response = await api.call(undefined, 'GET', '/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      checks: { job_store: 'ok', queue: 'ok' },
    });
  });

  it('readyz is 503 naming the port whose ping throws', async () => {
    const queue = { ...bind(new MemoryMessageQueue<JobMessage>()) };
    queue.ping = () => Promise.reject(new Error('connection refused'));
    const api = await makeApi({ queue });
    const response = await api.call(undefined, 'GET', '/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('unavailable');
    expect(body.checks.job_store).toBe('ok');
    expect(body.checks.queue).toMatch(/^unavailable/);

    const jobs = new MemoryJobStore();
    jobs.ping = () => Promise.reject(new Error('bucket gone'));
    const down = await makeApi({ jobs });
    const store = await down.call(undefined, 'GET', '/readyz');
    expect(store.status).toBe(503);
    expect(((await store.json()) as { checks: Record<string, string> }).checks.job_store).toMatch(
      /^unavailable/,
    );
  });
});

describe('GET /docs and /openapi.json', () => {
  it('serves Swagger UI from this server only: every file it names is here, under a strict CSP', async () => {
    const api = await makeApi();
    const response = await api.call(undefined, 'GET', '/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    const files = referencedFiles(await response.text());
    expect(files).toEqual(
      expect.arrayContaining([
        'docs/assets/swagger-ui-bundle.js',
        'docs/assets/swagger-ui.css',
        'docs/assets/init.js',
      ]),
    );
    for (const file of files) {
      const asset = await api.call(undefined, 'GET', `/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-type'), file).toMatch(/javascript|css|png/);
    }
    const init = await (await api.call(undefined, 'GET', '/docs/assets/init.js')).text();
    expect(init).toContain("'openapi.json'");
    // No call to validator.swagger.io (the badge), which would fail offline.
    expect(init).toContain('validatorUrl: null');
  });

  it('serves no other file of swagger-ui-dist, and nothing outside it', async () => {
    const api = await makeApi();
    for (const path of [
      '/docs/assets/package.json',
      '/docs/assets/index.html',
      '/docs/assets/..%2Fpackage.json',
      '/docs/assets/swagger-ui-bundle.js.map',
    ]) {
      await expectProblem(await api.call(undefined, 'GET', path), 404, 'not_found');
    }
  });

  it('serves the document without a key, with the configured public URL as its server', async () => {
    const api = await makeApi({ publicUrl: 'https://api.example.test' });
    // The Host a client sends is not where the API is.
    const response = await api.app.request('http://forged.example/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; servers: { url: string }[] };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]?.url).toBe('https://api.example.test');
  });
});

describe('GET /playground (and / on local stacks)', () => {
  it('serves the page and every script and stylesheet it loads, modules included', async () => {
    const api = await makeApi();
    const page = await api.call(undefined, 'GET', '/playground');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe');
    const seen = new Set<string>();
    const pending = referencedFiles(await page.text());
    expect(pending).toEqual(
      expect.arrayContaining(['playground/app.js', 'playground/playground.css']),
    );
    while (pending.length > 0) {
      const file = pending.pop() ?? '';
      if (seen.has(file)) continue;
      seen.add(file);
      const asset = await api.call(undefined, 'GET', `/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-security-policy'), file).toBe(csp);
      const text = await asset.text();
      // A module's imports are files beside it.
      for (const [, name] of text.matchAll(/from '\.\/([a-z-]+\.js)'/g)) {
        pending.push(`playground/${name}`);
      }
    }
    expect([...seen]).toEqual(expect.arrayContaining(['playground/sse.js', 'playground/api.js']));
  });

  it('/ is the playground only where the deployment says so (local stacks)', async () => {
    const aws = await makeApi();
    await expectProblem(await aws.call(undefined, 'GET', '/'), 404, 'not_found');
    const local = await makeApi({ playgroundAtRoot: true });
    const root = await local.call(undefined, 'GET', '/');
    expect(root.status).toBe(200);
    expect(await root.text()).toBe(
      await (await local.call(undefined, 'GET', '/playground')).text(),
    );
  });

  it('404 for names that are not playground files', async () => {
    const api = await makeApi();
    for (const path of [
      '/playground/index.html',
      '/playground/missing.js',
      '/playground/..%2F..%2Fapp.ts',
      '/playground/app.ts',
    ]) {
      await expectProblem(await api.call(undefined, 'GET', path), 404, 'not_found');
    }
  });
});

describe('GET /v1/models', () => {
  it('lists the shipped model with its limits and defaults from the manifest', async () => {
    const api = await makeApi();
    const response = await api.call(api.alice, 'GET', '/v1/models');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({
      id: 'shapes-mmdit-s',
      object: 'model',
      defaults: {
        width: 128,
        height: 128,
        steps: SHIPPED_STEPS,
        sampler: 'euler',
        output_format: 'png',
      },
      sizes: ['128x128', '192x128', '128x192'],
      aspect_ratios: { '1:1': '128x128', '3:2': '192x128', '2:3': '128x192' },
      samplers: ['euler', 'heun'],
      output_formats: ['png', 'webp', 'jpeg'],
      limits: {
        steps: { min: 1, max: 100 },
        prompt_chars: 2000,
        prompt_tokens: 30,
        num_images: { min: 1, max: 4 },
      },
    });
  });

  it('gets one model by id', async () => {
    const api = await makeApi();
    const response = await api.call(api.alice, 'GET', '/v1/models/shapes-mmdit-s');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe('shapes-mmdit-s');
  });
});

describe('GET /v1/files/{key} (signed local URLs)', () => {
  // The same scheme as the local BlobStore's URLs: HMAC-SHA256 over key and expiry.
  const SECRET = 'test-file-secret';
  const signFile = (secret: string, key: string, expires: number) =>
    createHmac('sha256', secret).update(`${key}\n${expires}`).digest('base64url');
  const files: FileServing = {
    verify(key, expires, sig, now) {
      const expected = Buffer.from(signFile(SECRET, key, expires));
      const actual = Buffer.from(sig);
      return (
        expected.length === actual.length &&
        timingSafeEqual(expected, actual) &&
        now.getTime() < expires * 1000
      );
    },
  };
  const KEY = 'jobs/tenant-alice/gen_01ABC/out/0.png';

  async function withFile() {
    const api = await makeApi({ files });
    await api.blobs.put(KEY, new Uint8Array([137, 80, 78, 71, 1, 2]), 'image/png');
    return api;
  }

  it('serves the file for a valid signature, without an API key', async () => {
    const api = await withFile();
    const expires = Math.floor(Date.now() / 1000) + 600;
    const response = await api.call(
      undefined,
      'GET',
      `/v1/files/${KEY}?expires=${expires}&sig=${signFile(SECRET, KEY, expires)}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([137, 80, 78, 71, 1, 2]);
  });

  it('403 url_expired for an expired URL', async () => {
    const api = await withFile();
    const expires = Math.floor(Date.now() / 1000) - 1;
    await expectProblem(
      await api.call(
        undefined,
        'GET',
        `/v1/files/${KEY}?expires=${expires}&sig=${signFile(SECRET, KEY, expires)}`,
      ),
      403,
      'url_expired',
    );
  });

  it('403 url_expired for a forged signature or a signature for another key', async () => {
    const api = await withFile();
    const expires = Math.floor(Date.now() / 1000) + 600;
    const forged = signFile('another-secret', KEY, expires);
    await expectProblem(
      await api.call(undefined, 'GET', `/v1/files/${KEY}?expires=${expires}&sig=${forged}`),
      403,
      'url_expired',
    );
    const other = 'jobs/tenant-bob/gen_01XYZ/out/0.png';
    await api.blobs.put(other, new Uint8Array([1]), 'image/png');
    await expectProblem(
      await api.call(
        undefined,
        'GET',
        `/v1/files/${other}?expires=${expires}&sig=${signFile(SECRET, KEY, expires)}`,
      ),
      403,
      'url_expired',
    );
    // Extending the expiry of a real URL breaks its signature.
    await expectProblem(
      await api.call(
        undefined,
        'GET',
        `/v1/files/${KEY}?expires=${expires + 3600}&sig=${signFile(SECRET, KEY, expires)}`,
      ),
      403,
      'url_expired',
    );
  });

  it('404 for a missing query, a path with .., a missing blob, or no file serving', async () => {
    const api = await withFile();
    const expires = Math.floor(Date.now() / 1000) + 600;
    await expectProblem(await api.call(undefined, 'GET', `/v1/files/${KEY}`), 404, 'not_found');
    // URL parsing resolves a literal `..`; an encoded slash survives it and decodes into one.
    const dotted = 'jobs/../secrets.json';
    // Stored under that very key, so only the `..` check stands between it and the caller.
    await api.blobs.put(dotted, new Uint8Array([1]), 'application/json');
    await expectProblem(
      await api.call(
        undefined,
        'GET',
        `/v1/files/jobs/..%2Fsecrets.json?expires=${expires}&sig=${signFile(SECRET, dotted, expires)}`,
      ),
      404,
      'not_found',
    );
    const missing = 'jobs/tenant-alice/gen_01ABC/out/9.png';
    await expectProblem(
      await api.call(
        undefined,
        'GET',
        `/v1/files/${missing}?expires=${expires}&sig=${signFile(SECRET, missing, expires)}`,
      ),
      404,
      'not_found',
    );
    const without = await makeApi();
    await expectProblem(
      await without.call(
        undefined,
        'GET',
        `/v1/files/${KEY}?expires=${expires}&sig=${signFile(SECRET, KEY, expires)}`,
      ),
      404,
      'not_found',
    );
  });
});
