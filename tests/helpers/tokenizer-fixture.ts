/**
 * A WordLevel tokenizer.json as the Python `tokenizers` library writes it for ditserve models
 * (docs/model-format.md): NFKC + lowercase, Whitespace pre-tokenizer, "[BOS] $A [EOS]".
 */
export const TEST_WORDS = [
  'a',
  'red',
  'blue',
  'green',
  'circle',
  'square',
  'triangle',
  'left',
  'right',
  'of',
  'above',
  'below',
  'big',
  'small',
  ',',
] as const;

const SPECIALS = ['[PAD]', '[UNK]', '[BOS]', '[EOS]'] as const;

/** Word → id: the four special tokens, then TEST_WORDS from id 4 on. */
export const TEST_VOCAB: Readonly<Record<string, number>> = Object.fromEntries(
  [...SPECIALS, ...TEST_WORDS].map((token, id) => [token, id]),
);

export function wordLevelTokenizer(): object {
  const special = (token: string) => ({ id: token, type_id: 0 });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: special('[BOS]') },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: special('[EOS]') },
      ],
      pair: [
        { SpecialToken: special('[BOS]') },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: special('[EOS]') },
      ],
      special_tokens: Object.fromEntries(
        ['[BOS]', '[EOS]'].map((t) => [t, { id: t, ids: [TEST_VOCAB[t]], tokens: [t] }]),
      ),
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: TEST_VOCAB, unk_token: '[UNK]' },
  };
}
