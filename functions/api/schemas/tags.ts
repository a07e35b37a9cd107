/**
 * The OpenAPI document's tags, in the order /docs shows them. Every operation has exactly one
 * (tests/api/openapi.test.ts), so none lands under "default".
 */
export const TAG = {
  generations: 'Generations',
  openai: 'OpenAI compatible',
  models: 'Models',
  webhooks: 'Webhooks',
  files: 'Files',
  health: 'Health',
} as const;

export const TAGS: { name: string; description: string }[] = [
  {
    name: TAG.generations,
    description:
      'Submit a text-to-image job, follow it (GET, `Prefer: wait`, Server-Sent Events), list and cancel.',
  },
  {
    name: TAG.openai,
    description:
      'The OpenAI Images API (synchronous) and Videos API (queued), for the OpenAI SDKs.',
  },
  { name: TAG.models, description: 'What each model accepts: sizes, steps, guidance, defaults.' },
  {
    name: TAG.webhooks,
    description: 'The signing secret of your webhooks, delivery attempts, redelivery.',
  },
  { name: TAG.files, description: 'Output images behind signed URLs (local deployments).' },
  { name: TAG.health, description: 'Liveness and readiness, without a key.' },
];
