import type { ModelInfo } from '../../../core/model-catalog.ts';
import { ValidationError } from '../errors.ts';

// C0 and C1 control characters except tab and newline, which prompts legitimately contain.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * NFC-normalizes and trims a prompt, then enforces the model's limits in characters and in
 * tokens. Returns the text to generate from and the words the model does not know (a warning,
 * not an error: they become [UNK], as CLIP-style tokenizers would treat them).
 */
export function checkPrompt(
  raw: string,
  field: string,
  model: ModelInfo,
  required: boolean,
): { text: string; unknownWords: readonly string[] } {
  if (LONE_SURROGATE.test(raw)) {
    throw ValidationError.field(
      field,
      'contains an unpaired surrogate',
      'well-formed Unicode text',
    );
  }
  const control = CONTROL.exec(raw);
  if (control) {
    const hex = control[0].codePointAt(0)?.toString(16).padStart(4, '0') ?? '';
    throw ValidationError.field(
      field,
      `contains the control character U+${hex.toUpperCase()}`,
      'printable text; tab and newline are allowed',
    );
  }
  const text = raw.normalize('NFC').trim();
  const { maxPromptChars, maxPromptTokens } = model.limits;
  if (required && text.length === 0) {
    throw ValidationError.field(field, 'is empty', `1–${maxPromptChars} characters`);
  }
  if (text.length > maxPromptChars) {
    throw ValidationError.field(
      field,
      `has ${text.length} characters`,
      `at most ${maxPromptChars} characters`,
    );
  }
  const { tokens, unknownWords } = model.countTokens(text);
  if (tokens > maxPromptTokens) {
    throw ValidationError.field(
      field,
      `has ${tokens} tokens; model ${model.id} reads at most ${maxPromptTokens}`,
      `at most ${maxPromptTokens} tokens (words and punctuation)`,
    );
  }
  return { text, unknownWords };
}
