import { describe, expect, it } from 'vitest';
import { blocklistPolicy, policyFromEnv } from '../../functions/api/services/prompt-policy.ts';

const ctx = { tenant: 't', field: 'prompt' };

describe('prompt policy', () => {
  it('refuses listed words as whole words, whatever their case or compatibility form', async () => {
    const policy = blocklistPolicy(['nsfw']);
    expect(await policy('a NSFW circle', ctx)).toMatchObject({ allowed: false });
    expect(await policy('ＮＳＦＷ square', ctx)).toMatchObject({ allowed: false });
    expect(await policy('nsfwish star', ctx)).toEqual({ allowed: true });
  });

  it('takes its list from DITSERVE_PROMPT_BLOCKLIST, and none turns it off', async () => {
    expect(
      await policyFromEnv({ DITSERVE_PROMPT_BLOCKLIST: 'ring, star' })('a red ring', ctx),
    ).toMatchObject({
      allowed: false,
    });
    expect(await policyFromEnv({ DITSERVE_PROMPT_BLOCKLIST: 'none' })('nsfw', ctx)).toEqual({
      allowed: true,
    });
    expect(await policyFromEnv({})('nude', ctx)).toMatchObject({ allowed: false });
  });
});
