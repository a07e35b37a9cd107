import * as hf from '@huggingface/tokenizers';
import { ModelConfigError } from './errors.ts';

/**
 * The part of @huggingface/tokenizers 0.2.0 that we use. Its .d.ts files import each other
 * without file extensions, which NodeNext resolution cannot follow, so TypeScript sees the
 * package as `any`; this interface restores the types at the one place we touch it.
 */
interface HfTokenizer {
  encode(text: string): { ids: (number | undefined)[]; tokens: string[] };
  token_to_id(token: string): number | undefined;
}
const Tokenizer = hf.Tokenizer as new (tokenizerJson: object, config: object) => HfTokenizer;

/** Special token ids fixed by the model contract (docs/model-format.md, "Tokenizer"). */
export const SPECIAL_TOKENS = { '[PAD]': 0, '[UNK]': 1, '[BOS]': 2, '[EOS]': 3 } as const;
const PAD = SPECIAL_TOKENS['[PAD]'];
const UNK = SPECIAL_TOKENS['[UNK]'];
const EOS = SPECIAL_TOKENS['[EOS]'];

export interface EncodedPrompt {
  /** Exactly `maxLength` ids: [BOS] words… [EOS] then [PAD]s. */
  readonly ids: readonly number[];
  /** Words (after normalization) that the vocabulary lacks; each became [UNK]. In order, unique. */
  readonly unknownWords: readonly string[];
  /** True when the prompt had more tokens than fit and its tail was dropped. */
  readonly truncated: boolean;
}

/**
 * The model's WordLevel tokenizer with the contract's fixed-length rules applied on top of
 * `@huggingface/tokenizers`: truncate to L keeping [EOS] last, pad with [PAD] to exactly L.
 */
export class PromptTokenizer {
  readonly maxLength: number;
  readonly #tokenizer: HfTokenizer;

  /**
   * @param tokenizerJson parsed tokenizer/tokenizer.json
   * @param tokenizerConfig parsed tokenizer/tokenizer_config.json (holds model_max_length)
   */
  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown>) {
    const maxLength = tokenizerConfig.model_max_length;
    if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 2) {
      throw new ModelConfigError(
        `tokenizer_config.json: model_max_length must be an integer ≥ 2 (room for [BOS] and [EOS]), got ${JSON.stringify(maxLength)}`,
      );
    }
    this.maxLength = maxLength;
    try {
      this.#tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new ModelConfigError(`tokenizer.json cannot be loaded: ${String(error)}`, {
        cause: error,
      });
    }
    for (const [token, id] of Object.entries(SPECIAL_TOKENS)) {
      const actual = this.#tokenizer.token_to_id(token);
      if (actual !== id) {
        throw new ModelConfigError(
          `tokenizer.json: ${token} must have id ${id} (docs/model-format.md), has ${String(actual)}`,
        );
      }
    }
  }

  encode(prompt: string): EncodedPrompt {
    const { ids, unknownWords } = this.encodeUnpadded(prompt);
    const truncated = ids.length > this.maxLength;
    const fitted = truncated ? [...ids.slice(0, this.maxLength - 1), EOS] : ids;
    const padded = fitted.concat(new Array<number>(this.maxLength - fitted.length).fill(PAD));
    return { ids: padded, unknownWords, truncated };
  }

  /** [BOS] words… [EOS] without the fixed-length cut: what the prompt really needs. */
  encodeUnpadded(prompt: string): { ids: number[]; unknownWords: string[] } {
    const { tokens, ids: rawIds } = this.#tokenizer.encode(prompt);
    const unknownWords = new Set<string>();
    // @huggingface/tokenizers 0.2.0 gives `undefined` (not [UNK]) for out-of-vocabulary words
    // of a WordLevel model unless tokenizer_config.json names unk_token; handle both.
    const ids = tokens.map((token, i) => {
      if (this.#tokenizer.token_to_id(token) === undefined) {
        unknownWords.add(token);
        return UNK;
      }
      return rawIds[i] ?? UNK;
    });
    return { ids, unknownWords: [...unknownWords] };
  }

  /** `input_ids` for the text encoder: int64 [prompts.length, maxLength], row-major. */
  toInputIds(encoded: readonly EncodedPrompt[]): BigInt64Array {
    const out = new BigInt64Array(encoded.length * this.maxLength);
    encoded.forEach((prompt, row) => {
      prompt.ids.forEach((id, col) => {
        out[row * this.maxLength + col] = BigInt(id);
      });
    });
    return out;
  }
}
