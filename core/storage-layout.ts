/**
 * Where everything lives in the one bucket (and, with the same names, in the local data
 * folder's blob store): the prefixes, the key of every object the code writes, and the tag that
 * makes an output expire. The S3 adapters build their keys here, the worker its output keys,
 * and infra/constructs/storage.ts its grants and lifecycle rules, so that a test can check that
 * every key the code writes falls under a prefix its role may write (tests/architecture).
 */
export const PREFIXES = {
  /**
   * `jobs/{tenant}/{id}/job.json` records, `jobs/{tenant}/{id}/out/*` outputs and
   * `jobs/{tenant}/{id}/in/*` inputs (a video job's init image).
   */
  jobs: 'jobs/',
  /** The per-tenant newest-first listing index of the S3 job store. */
  index: 'index/',
  /**
   * `unfinished/{tenant}/{id}`: one empty object per job not yet settled, which the sweeper
   * walks. No lifecycle rule: an entry that expired would hide a job that lost its way.
   */
  unfinished: 'unfinished/',
  idempotency: 'idempotency/',
  /** API keys: SHA-256 hashes only, written by `ditserve keys create`. */
  keys: 'keys/',
  webhookSecrets: 'webhook-secrets/',
  /** Webhook delivery logs. */
  webhooks: 'webhooks/',
} as const;

export type Prefix = keyof typeof PREFIXES;

/** The object tag that makes an output expire (the bucket's `expire-outputs` rule). */
export const OUTPUT_EXPIRY_TAG = { key: 'ditserve:expiry', value: 'output' } as const;

/** The same tag as S3's `x-amz-tagging` header value. */
export const OUTPUT_TAGGING = `${OUTPUT_EXPIRY_TAG.key}=${OUTPUT_EXPIRY_TAG.value}`;

/** File extensions of the output formats. */
const EXTENSIONS = { png: 'png', webp: 'webp', jpeg: 'jpg' } as const;

/** The files of a video clip and their names beside the image outputs. */
const CLIP_FILES = { mp4: 'mp4', webp: 'webp', thumbnail: 'thumb.png' } as const;

/** Every key the code writes, by what it holds. */
export const KEYS = {
  job: (tenant: string, id: string) => `${PREFIXES.jobs}${tenant}/${id}/job.json`,
  output: (tenant: string, id: string, index: number, format: keyof typeof EXTENSIONS) =>
    `${PREFIXES.jobs}${tenant}/${id}/out/${index}.${EXTENSIONS[format]}`,
  videoOutput: (tenant: string, id: string, index: number, file: keyof typeof CLIP_FILES) =>
    `${PREFIXES.jobs}${tenant}/${id}/out/${index}.${CLIP_FILES[file]}`,
  /** What a client sent along with a job (written by the API, read by the worker). */
  input: (tenant: string, id: string, name: `init.${'png' | 'jpeg' | 'webp'}`) =>
    `${PREFIXES.jobs}${tenant}/${id}/in/${name}`,
  tenantIndex: (tenant: string) => `${PREFIXES.index}${tenant}/`,
  indexEntry: (tenant: string, name: string) => `${PREFIXES.index}${tenant}/${name}`,
  unfinished: (tenant: string, id: string) => `${PREFIXES.unfinished}${tenant}/${id}`,
  idempotency: (tenant: string, keyHash: string) =>
    `${PREFIXES.idempotency}${tenant}/${keyHash}.json`,
  apiKey: (keyId: string) => `${PREFIXES.keys}${keyId}.json`,
  webhookSecret: (tenant: string) => `${PREFIXES.webhookSecrets}${tenant}.json`,
  deliveryLog: (tenant: string, jobId: string) =>
    `${PREFIXES.webhooks}${tenant}/${jobId}/deliveries/`,
} as const;
