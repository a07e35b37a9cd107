import { describe, expect, it } from 'vitest';
import { blocklistPolicy } from '../../../functions/api/services/prompt-policy.ts';
import { foldForPolicy } from '../../../functions/api/services/policy-text.ts';
import { makeApi } from '../../api/harness.ts';

const ctx = { tenant: 't', field: 'prompt' };
const GEN = '/v1/generations';

interface ProblemBody {
  code: string;
  detail: string;
  errors?: { field: string }[];
  error?: { param: string | null };
}

describe('the prompt policy reads what a person reads (issue 18)', () => {
  // Each spelling shows "nude" on screen; before the fix each one passed the default list.
  const disguised: Record<string, string> = {
    'zero-width space': 'a nu\u200Bde circle',
    'zero-width joiner': 'a nu\u200Dde circle',
    'soft hyphen': 'a nu\u00ADde circle',
    'word joiner': 'a n\u2060ude circle',
    'byte order mark': 'a nud\uFEFFe circle',
    'Cyrillic е': 'a nud\u0435 circle',
    'Cyrillic о in porn': 'a p\u043Ern square',
    'Greek ο and Cyrillic р': '\u03C1\u03BFrn',
    'Cyrillic capitals': 'a NUD\u0415 circle',
    'combining strike-through': 'a n\u0336u\u0336d\u0336e\u0336 circle',
    diacritics: 'a nüdé circle',
    'full-width with a zero-width space': 'ｎｕ\u200Bｄｅ',
    'variation selector': 'nu\uFE0Fde',
  };

  it.each(Object.entries(disguised))('refuses "nude" hidden by a %s', async (_how, prompt) => {
    expect(await blocklistPolicy()(prompt, ctx)).toMatchObject({ allowed: false });
  });

  it('still allows words that merely contain a listed one, and plain Cyrillic text', async () => {
    const policy = blocklistPolicy();
    expect(await policy('a nudging circle', ctx)).toEqual({ allowed: true });
    expect(await policy('красный круг слева от синего квадрата', ctx)).toEqual({ allowed: true });
  });

  it('folds an operator’s own list the same way', async () => {
    const policy = blocklistPolicy(['ЅТАR']); // Cyrillic Ѕ, Т, А
    expect(await policy('a st\u200Bar', ctx)).toMatchObject({ allowed: false });
  });

  it('foldForPolicy: NFKC, invisibles removed, look-alikes folded, lower case', () => {
    expect(foldForPolicy('ＲＥＤ\u00AD c\u0456rcle')).toBe('red circle');
  });

  it('checks negative_prompt too, and the 422 names the field', async () => {
    const api = await makeApi();
    const response = await api.call(api.alice, 'POST', GEN, {
      prompt: 'a red circle',
      negative_prompt: 'nu\u200Bde',
    });
    expect(response.status).toBe(422);
    const body = (await response.json()) as ProblemBody;
    expect(body.code).toBe('content_policy');
    expect(body.errors?.[0]?.field).toBe('negative_prompt');
    expect(body.error?.param).toBe('negative_prompt');
    expect(body.detail).toMatch(/negative_prompt/);

    const onPrompt = await api.call(api.alice, 'POST', GEN, { prompt: 'a p\u043Ern square' });
    expect(onPrompt.status).toBe(422);
    const promptBody = (await onPrompt.json()) as ProblemBody;
    expect(promptBody.code).toBe('content_policy');
    expect(promptBody.errors?.[0]?.field).toBe('prompt');
  });

  it('a pluggable policy sees every text field, named', async () => {
    const seen: string[] = [];
    const api = await makeApi({
      promptPolicy: (text, { field }) => {
        seen.push(`${field}=${text}`);
        return field === 'negative_prompt' && text.includes('blue')
          ? { allowed: false, reason: 'no blue here' }
          : { allowed: true };
      },
    });
    const response = await api.call(api.alice, 'POST', GEN, {
      prompt: 'a red circle',
      negative_prompt: 'blue',
    });
    expect(response.status).toBe(422);
    expect(seen).toEqual(['prompt=a red circle', 'negative_prompt=blue']);
    const body = (await response.json()) as ProblemBody;
    expect(body.errors?.[0]?.field).toBe('negative_prompt');
    expect(body.detail).toBe('no blue here');
  });
});
