import { describe, expect, it } from 'vitest';
import { ModelConfigError } from '../../gpu-worker/src/sampler/errors.ts';
import { PromptTokenizer } from '../../gpu-worker/src/sampler/tokenizer.ts';
import { TEST_VOCAB, wordLevelTokenizer } from '../helpers/tokenizer-fixture.ts';

const L = 8;
const tokenizer = new PromptTokenizer(wordLevelTokenizer(), { model_max_length: L });
const id = (word: string) => TEST_VOCAB[word];

describe('PromptTokenizer', () => {
  it('wraps the words in [BOS]=2 … [EOS]=3 and pads with [PAD]=0 to exactly L', () => {
    const { ids, unknownWords, truncated } = tokenizer.encode('a red circle');
    expect(ids).toEqual([2, id('a'), id('red'), id('circle'), 3, 0, 0, 0]);
    expect(unknownWords).toEqual([]);
    expect(truncated).toBe(false);
  });

  it('normalizes (NFKC + lowercase) and splits punctuation like the Python tokenizer', () => {
    expect(tokenizer.encode('A  RED\tcircle,Blue').ids).toEqual([
      2,
      id('a'),
      id('red'),
      id('circle'),
      id(','),
      id('blue'),
      3,
      0,
    ]);
    // NFKC folds the full-width letters ｒｅｄ to "red".
    expect(tokenizer.encode('ｒｅｄ').ids.slice(0, 3)).toEqual([2, id('red'), 3]);
  });

  it('encodes the empty prompt (the unconditional text) as [BOS] [EOS] and padding', () => {
    expect(tokenizer.encode('').ids).toEqual([2, 3, 0, 0, 0, 0, 0, 0]);
  });

  it('maps out-of-vocabulary words to [UNK]=1 and reports each once, in order', () => {
    const { ids, unknownWords } = tokenizer.encode('a purple circle, purple zebra');
    expect(ids).toEqual([2, id('a'), 1, id('circle'), id(','), 1, 1, 3]);
    expect(unknownWords).toEqual(['purple', 'zebra']);
  });

  it('maps unknown words the same way when tokenizer_config.json names unk_token', () => {
    // With unk_token set, @huggingface/tokenizers returns 1 itself instead of undefined.
    const withUnk = new PromptTokenizer(wordLevelTokenizer(), {
      model_max_length: L,
      unk_token: '[UNK]',
    });
    const { ids, unknownWords } = withUnk.encode('purple circle');
    expect(ids).toEqual([2, 1, id('circle'), 3, 0, 0, 0, 0]);
    expect(unknownWords).toEqual(['purple']);
  });

  it('truncates to L keeping [EOS] as the last id', () => {
    // 8 words + [BOS] + [EOS] = 10 tokens > 8: keep [BOS] and 6 words, then [EOS].
    const { ids, truncated } = tokenizer.encode('a red circle left of a blue square');
    expect(ids).toEqual([2, id('a'), id('red'), id('circle'), id('left'), id('of'), id('a'), 3]);
    expect(truncated).toBe(true);
  });

  it('does not truncate a prompt that fills L exactly', () => {
    const { ids, truncated } = tokenizer.encode('a red circle left of a');
    expect(ids).toEqual([2, id('a'), id('red'), id('circle'), id('left'), id('of'), id('a'), 3]);
    expect(truncated).toBe(false);
  });

  it('lays out a batch as int64 [B, L] row by row', () => {
    const batch = tokenizer.toInputIds([tokenizer.encode('red'), tokenizer.encode('')]);
    expect([...batch]).toEqual([2n, 5n, 3n, 0n, 0n, 0n, 0n, 0n, 2n, 3n, 0n, 0n, 0n, 0n, 0n, 0n]);
  });

  it('rejects a tokenizer whose special ids differ from the contract', () => {
    const json = wordLevelTokenizer() as {
      model: { vocab: Record<string, number> };
      added_tokens: { content: string; id: number }[];
    };
    json.added_tokens = json.added_tokens.map((t) => (t.content === '[EOS]' ? { ...t, id: 9 } : t));
    expect(() => new PromptTokenizer(json, { model_max_length: L })).toThrow(
      /\[EOS\] must have id 3/,
    );
  });

  it('rejects a missing or too small model_max_length', () => {
    expect(() => new PromptTokenizer(wordLevelTokenizer(), {})).toThrow(ModelConfigError);
    expect(() => new PromptTokenizer(wordLevelTokenizer(), { model_max_length: 1 })).toThrow(
      /model_max_length must be an integer ≥ 2/,
    );
  });
});
