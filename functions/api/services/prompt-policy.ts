import { foldForPolicy } from './policy-text.ts';

/**
 * The prompt policy hook (`ApiDeps.promptPolicy`): decides whether a text may be generated; plug
 * in a moderation model or service here. It is called once per text field, `prompt` and then
 * `negative_prompt` when there is one, with the text as the client sent it (NFC, trimmed);
 * compare `foldForPolicy(text)` so that invisible characters and look-alike letters cannot hide
 * a word. A refusal answers 422 `content_policy` naming the field and the reason.
 */
export type PromptPolicy = (
  prompt: string,
  context: { readonly tenant: string; readonly field: string },
) => PolicyDecision | Promise<PolicyDecision>;

export type PolicyDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** A small default list; deployments replace it (DITSERVE_PROMPT_BLOCKLIST) or the whole hook. */
export const DEFAULT_BLOCKLIST: readonly string[] = ['nsfw', 'nude', 'naked', 'gore', 'porn'];

/**
 * Refuses texts containing a listed word as a whole word, both compared in their policy form
 * (foldForPolicy), so "ＮＳＦＷ", "Nude", "nu\u200Bde", "nu\u00ADde" or a Cyrillic "nudе" do
 * not slip through.
 */
export function blocklistPolicy(words: readonly string[] = DEFAULT_BLOCKLIST): PromptPolicy {
  const blocked = new Set(words.map(foldForPolicy));
  return function blocklist(prompt, context) {
    for (const word of foldForPolicy(prompt).split(/[^\p{L}\p{N}]+/u)) {
      if (blocked.has(word)) {
        return { allowed: false, reason: `${context.field} contains a blocked term ("${word}")` };
      }
    }
    return { allowed: true };
  };
}

/**
 * DITSERVE_PROMPT_BLOCKLIST: comma-separated words replacing the default list; empty or `none`
 * turns the blocklist off (a deployment with its own moderation in front of ditserve).
 */
export function policyFromEnv(env: Readonly<Record<string, string | undefined>>): PromptPolicy {
  const raw = env.DITSERVE_PROMPT_BLOCKLIST;
  if (raw === undefined) return blocklistPolicy();
  const words = raw
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w && w.toLowerCase() !== 'none');
  return blocklistPolicy(words);
}
