/** Decides whether a prompt may be generated; plug in a moderation model or service here. */
export type PromptPolicy = (
  prompt: string,
  context: { readonly tenant: string; readonly field: string },
) => PolicyDecision | Promise<PolicyDecision>;

export type PolicyDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** A small default list; deployments replace it (DITSERVE_PROMPT_BLOCKLIST) or the whole hook. */
export const DEFAULT_BLOCKLIST: readonly string[] = ['nsfw', 'nude', 'naked', 'gore', 'porn'];

/**
 * Refuses prompts containing a listed word as a whole word, compared case- and
 * compatibility-insensitively (NFKC + lower case), so "ＮＳＦＷ" or "Nude" do not slip through.
 */
export function blocklistPolicy(words: readonly string[] = DEFAULT_BLOCKLIST): PromptPolicy {
  const fold = (s: string) => s.normalize('NFKC').toLowerCase();
  const blocked = new Set(words.map(fold));
  return function blocklist(prompt) {
    for (const word of fold(prompt).split(/[^\p{L}\p{N}]+/u)) {
      if (blocked.has(word)) {
        return { allowed: false, reason: `the prompt contains a blocked term ("${word}")` };
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
