import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { KEYS, OUTPUT_EXPIRY_TAG, OUTPUT_TAGGING, PREFIXES } from '../../core/storage-layout.ts';
import { actions, buildStack, resourcesOf, statementsOfRole } from '../infra/helpers.ts';

interface Rule {
  Id: string;
  Prefix?: string;
  TagFilters?: { Key: string; Value: string }[];
}

/**
 * The keys each deployed component writes (or deletes), by the code paths that write them: the
 * API stores jobs, the listing and unfinished indexes, idempotency claims and webhook secrets;
 * the worker updates records, uploads outputs and settles (drops unfinished entries); the sweeper
 * updates records and settles; the dispatcher appends delivery logs.
 */
const WRITES: Record<string, readonly string[]> = {
  ApiRole: [
    KEYS.job('t', 'gen_1'),
    KEYS.indexEntry('t', 'x~'),
    KEYS.unfinished('t', 'gen_1'),
    KEYS.idempotency('t', 'a'.repeat(64)),
    KEYS.webhookSecret('t'),
  ],
  WorkerTaskTaskRole: [
    KEYS.job('t', 'gen_1'),
    KEYS.output('t', 'gen_1', 0, 'png'),
    KEYS.unfinished('t', 'gen_1'),
  ],
  SweeperRole: [KEYS.job('t', 'gen_1'), KEYS.unfinished('t', 'gen_1')],
  WebhookDispatcherRole: [`${KEYS.deliveryLog('t', 'gen_1')}0001-x.json`],
};

/** The key prefixes a role may write (PutObject/DeleteObject), from its policy's object ARNs. */
function writablePrefixes(template: Template, role: string): Set<string> {
  const prefixes = new Set<string>();
  for (const s of statementsOfRole(template, role)) {
    if (!actions(s).some((a) => a === 's3:PutObject' || a === 's3:DeleteObject')) continue;
    for (const match of JSON.stringify(s.Resource).matchAll(/"\/([a-z-]+\/)\*"/g)) {
      if (match[1]) prefixes.add(match[1]);
    }
  }
  return prefixes;
}

describe('one storage layout: the grants cover exactly the keys the code writes', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildStack());
  });

  it('every key a component writes is under a prefix its role may write, and no other prefix is', () => {
    for (const [role, keys] of Object.entries(WRITES)) {
      const granted = writablePrefixes(template, role);
      const used = new Set(
        keys.map((k) => Object.values(PREFIXES).find((p) => k.startsWith(p)) ?? `none:${k}`),
      );
      expect([...used].sort(), role).toEqual([...granted].sort());
    }
  });

  it('every prefix of the layout is a real one the code writes under', () => {
    const written = new Set(
      [...Object.values(WRITES).flat(), KEYS.apiKey('k')].map((k) => `${k.split('/')[0] ?? ''}/`),
    );
    expect([...written].sort()).toEqual(Object.values(PREFIXES).sort());
  });

  it('lifecycle rules: outputs expire by the tag the blob store writes; the unfinished index never', () => {
    const rules =
      resourcesOf(template, 'AWS::S3::Bucket')
        .map(
          ([, b]) =>
            (b.Properties?.LifecycleConfiguration as { Rules: Rule[] } | undefined)?.Rules ?? [],
        )
        .find((r) => r.some((rule) => rule.Id === 'expire-outputs')) ?? [];
    const outputs = rules.find((r) => r.Id === 'expire-outputs');
    expect(outputs?.Prefix).toBe(PREFIXES.jobs);
    expect(outputs?.TagFilters).toEqual([
      { Key: OUTPUT_EXPIRY_TAG.key, Value: OUTPUT_EXPIRY_TAG.value },
    ]);
    expect(OUTPUT_TAGGING).toBe(`${OUTPUT_EXPIRY_TAG.key}=${OUTPUT_EXPIRY_TAG.value}`);
    const expiring = new Set(rules.map((r) => r.Prefix));
    for (const p of [PREFIXES.jobs, PREFIXES.index, PREFIXES.idempotency, PREFIXES.webhooks]) {
      expect(expiring, p).toContain(p);
    }
    expect(expiring).not.toContain(PREFIXES.unfinished);
    expect(expiring).not.toContain(PREFIXES.keys);
  });
});
