import type { JobMessage, WebhookEventMessage } from '../../core/generation.ts';
import type { ModelCatalog } from '../../core/model-catalog.ts';
import type { DeliveryLog } from '../../core/ports/delivery-log.ts';
import type { BlobStore } from '../../core/ports/blob-store.ts';
import type { JobStore } from '../../core/ports/job-store.ts';
import type { KeyStore } from '../../core/ports/key-store.ts';
import type { MessageQueue } from '../../core/ports/message-queue.ts';
import type { Logger } from '../../core/logger.ts';
import type { CorsOrigins } from './middleware/cors.ts';
import type { PromptPolicy } from './services/prompt-policy.ts';

/** Who may call: API keys, or (local loopback only) everyone as one tenant. */
export type AuthMode =
  { readonly kind: 'keys' } | { readonly kind: 'open'; readonly tenant: string };

export interface ApiLimits {
  /**
   * Largest request body in bytes (413 above). Room for a base64 `init_image` of
   * maxInitImageBytes (base64 is 4/3 of it) and the rest of a request.
   */
  readonly maxBodyBytes: number;
  /** Largest init image (image-to-video), as decoded bytes of its file (422 above). */
  readonly maxInitImageBytes: number;
  /** Sustained requests per second per tenant, and the burst allowed above it. */
  readonly requestsPerSecond: number;
  readonly burst: number;
  /** Jobs a tenant may have queued at once (429 above). */
  readonly maxQueuedPerTenant: number;
  /** Longest `Prefer: wait=N` honoured, and the OpenAI endpoint's synchronous wait. */
  readonly maxWaitSeconds: number;
  /**
   * Longest SSE stream; clients (EventSource) reconnect after it. On Lambda it must stay under
   * the function's timeout.
   */
  readonly maxStreamSeconds: number;
  /** Lifetime of output URLs. */
  readonly urlTtlSeconds: number;
  /** Queued jobs older than this expire instead of running. */
  readonly queuedJobTtlSeconds: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxBodyBytes: 768 * 1024,
  maxInitImageBytes: 512 * 1024,
  requestsPerSecond: 10,
  burst: 20,
  maxQueuedPerTenant: 100,
  maxWaitSeconds: 60,
  maxStreamSeconds: 900,
  urlTtlSeconds: 3600,
  queuedJobTtlSeconds: 24 * 3600,
};

/** Everything the API talks to: ports only, so local and AWS adapters plug in alike. */
export interface ApiDeps {
  readonly jobs: JobStore;
  readonly queue: MessageQueue<JobMessage>;
  readonly blobs: BlobStore;
  readonly keys: KeyStore;
  readonly models: ModelCatalog;
  /** Where webhook events go; without it, cancel-by-API emits no webhook. */
  readonly outbox?: MessageQueue<WebhookEventMessage> | undefined;
  /** Webhook delivery attempts per job (GET …/webhook/deliveries). */
  readonly deliveryLog?: DeliveryLog | undefined;
  readonly auth: AuthMode;
  /**
   * Where clients reach the API (origin and any path prefix, no trailing slash), for the links
   * of generations and the OpenAPI `servers`; the Host header is never used. Without it links
   * are relative to the server.
   */
  readonly publicUrl?: string | undefined;
  readonly limits?: Partial<ApiLimits> | undefined;
  readonly promptPolicy?: PromptPolicy | undefined;
  /** Refuses webhook URLs at submit time (SSRF); returns the reason or undefined. */
  readonly checkWebhookUrl?: ((url: string) => string | undefined) | undefined;
  /** Serves the filesystem BlobStore's signed URLs (local mode only). */
  readonly files?: FileServing | undefined;
  readonly logger?: Logger | undefined;
  /** Browser origins that may call the API (CORS); no CORS headers at all when unset. */
  readonly corsOrigins?: CorsOrigins | undefined;
  /**
   * Local stacks: `/` is the playground. Elsewhere (AWS) the API's root stays a 404 and the
   * playground lives at /playground only.
   */
  readonly playgroundAtRoot?: boolean | undefined;
  /**
   * Fires when the server shuts down: `Prefer: wait` answers at once with the job as it is
   * (202 unless it ended) and SSE streams send a last `shutdown` event and end, instead of
   * being cut.
   */
  readonly shutdown?: AbortSignal | undefined;
  /** How often SSE and `Prefer: wait` re-read a job. */
  readonly pollIntervalMs?: number | undefined;
  readonly now?: (() => Date) | undefined;
}

export interface FileServing {
  /** True when (key, expires, sig) is a URL this deployment signed and it has not expired. */
  verify(key: string, expires: number, sig: string, now: Date): boolean;
}
