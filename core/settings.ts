/**
 * Every setting of every ditserve process, in one table: its environment variable, command-line
 * flag (where `ditserve serve` has one), default, allowed range and what it does. The worker
 * entry, `ditserve serve`, the Lambdas, the embedded stack and the CDK stack's environment maps
 * read their defaults from here; `docs/settings.md` and `ditserve serve --help` are generated
 * from it (tests/architecture/settings.test.ts keeps them equal).
 */

interface Common {
  readonly env: string;
  /** `ditserve serve`'s flag for it, if it has one. */
  readonly flag?: string;
  readonly description: string;
  /** Which processes read it. */
  readonly readBy: readonly ('api' | 'worker' | 'serve' | 'lambda' | 'cli')[];
}

export interface IntSetting extends Common {
  readonly kind: 'int';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface StringSetting extends Common {
  readonly kind: 'string';
  readonly default?: string;
  readonly choices?: readonly string[];
}

export interface BoolSetting extends Common {
  readonly kind: 'bool';
  readonly default: boolean;
}

export type Setting = IntSetting | StringSetting | BoolSetting;

export const SETTINGS = {
  backend: {
    kind: 'string',
    env: 'DITSERVE_BACKEND',
    flag: '--backend',
    default: 'local',
    choices: ['local', 'aws'],
    description:
      'adapters: a local data folder, or S3 + SQS (`serve --backend aws`: the API and dispatcher against a deployed stack, keys required, no local worker unless --workers)',
    // The Lambdas are AWS by construction (their entries build the AWS adapters directly).
    readBy: ['api', 'worker', 'serve'],
  },
  dataDir: {
    kind: 'string',
    env: 'DITSERVE_DATA_DIR',
    flag: '--data-dir',
    default: './data',
    description: 'jobs, queues, images and keys of the local backend',
    readBy: ['worker', 'serve'],
  },
  publicUrl: {
    kind: 'string',
    env: 'DITSERVE_PUBLIC_URL',
    flag: '--public-url',
    default: 'http://127.0.0.1:8080',
    description:
      'where clients reach the API (origin and path prefix): links, OpenAPI `servers`, file URLs; the Host header is never used (serve: its bind address when unset; AWS: the stack’s API URL)',
    readBy: ['api', 'worker', 'serve', 'lambda'],
  },
  port: {
    kind: 'int',
    env: 'DITSERVE_PORT',
    flag: '--port',
    default: 8080,
    min: 0,
    max: 65_535,
    description: 'port to listen on (PORT also works; 0 picks a free one)',
    readBy: ['serve'],
  },
  host: {
    kind: 'string',
    env: 'DITSERVE_HOST',
    flag: '--host',
    default: '127.0.0.1',
    description: 'address to bind; keys are required off loopback',
    readBy: ['serve'],
  },
  modelDirs: {
    kind: 'string',
    env: 'DITSERVE_MODEL_DIRS',
    flag: '--model',
    default: 'models/shapes-mmdit-s,models/shapes-video-s',
    description: 'model folders, comma-separated (the first is the default model)',
    readBy: ['api', 'worker', 'serve', 'lambda'],
  },
  device: {
    kind: 'string',
    env: 'DITSERVE_DEVICE',
    flag: '--device',
    default: 'cpu',
    choices: ['cpu', 'cuda', 'auto'],
    description: 'where models run (auto: CUDA when it works)',
    readBy: ['worker', 'serve'],
  },
  runner: {
    kind: 'string',
    env: 'DITSERVE_RUNNER',
    flag: '--runner',
    default: 'auto',
    choices: ['auto', 'stock', 'native'],
    description:
      'how ONNX graphs run: onnxruntime-node (stock), or ditserve’s own binding to the same library’s C API with CUDA graphs (native; docs/gpu-engine.md); auto is native on CUDA and stock on the CPU; native falls back to stock, logged once, where it cannot load',
    readBy: ['worker', 'serve'],
  },
  opsDir: {
    kind: 'string',
    env: 'DITSERVE_OPS_DIR',
    description:
      'folder with ditserve’s custom-op library (`bash gpu-worker/ops/build.sh cpu|cuda DIR` writes libditserve_ops_cpu.so / libditserve_ops_cuda.so there; docs/custom-ops.md): needed by models whose manifest lists the device under custom_ops, with the native runner; the worker image sets it',
    readBy: ['worker', 'serve', 'cli'],
  },
  threads: {
    kind: 'int',
    env: 'DITSERVE_THREADS',
    flag: '--threads',
    min: 1,
    max: 256,
    description: 'CPU threads per model part (default: all cores)',
    readBy: ['worker', 'serve'],
  },
  ffmpeg: {
    kind: 'string',
    env: 'DITSERVE_FFMPEG',
    default: 'ffmpeg',
    description:
      'the ffmpeg that writes MP4 videos (H.264 through libx264): a path, or a name looked up on PATH; where it is missing or lacks libx264, videos come as animated WebP only and the job says why',
    readBy: ['worker', 'serve', 'cli'],
  },
  workers: {
    kind: 'int',
    env: 'DITSERVE_WORKERS',
    flag: '--workers',
    default: 1,
    min: 0,
    max: 16,
    description: 'worker loops in the embedded process, each with its own sampler',
    readBy: ['serve'],
  },
  batchSize: {
    kind: 'int',
    env: 'DITSERVE_BATCH_SIZE',
    flag: '--batch-size',
    default: 8,
    min: 1,
    max: 64,
    description: 'most images in one sampler batch',
    readBy: ['worker', 'serve'],
  },
  batching: {
    kind: 'string',
    env: 'DITSERVE_BATCHING',
    flag: '--batching',
    default: 'continuous',
    choices: ['continuous', 'static'],
    description:
      'continuous: a worker keeps taking jobs while others generate (up to the batch size in images), and they share denoising steps where the model has a step graph; static: it runs what it received, batch after batch, before taking more',
    readBy: ['worker', 'serve'],
  },
  requireKeys: {
    kind: 'bool',
    env: 'DITSERVE_REQUIRE_KEYS',
    flag: '--require-keys',
    default: false,
    description: 'ask for API keys even on loopback (always on elsewhere)',
    readBy: ['serve'],
  },
  allowLocalWebhooks: {
    kind: 'bool',
    env: 'DITSERVE_ALLOW_LOCAL_WEBHOOKS',
    flag: '--allow-local-webhooks',
    default: true,
    description:
      'allow http://localhost webhook URLs; acts in the open local mode only (loopback bind, no keys): otherwise list receivers in DITSERVE_WEBHOOK_ALLOW_HOSTS',
    readBy: ['serve'],
  },
  webhookAllowHosts: {
    kind: 'string',
    env: 'DITSERVE_WEBHOOK_ALLOW_HOSTS',
    flag: '--webhook-allow-hosts',
    description:
      'webhook receivers allowed although private or loopback (http too): host names, IPs and CIDR ranges, comma-separated',
    readBy: ['api', 'serve', 'lambda'],
  },
  visibilitySeconds: {
    kind: 'int',
    env: 'DITSERVE_VISIBILITY_SECONDS',
    default: 120,
    min: 3,
    max: 43_200,
    description: 'how long a received job stays hidden; also a worker’s lease on it',
    readBy: ['worker', 'serve', 'lambda'],
  },
  pollSeconds: {
    kind: 'int',
    env: 'DITSERVE_POLL_SECONDS',
    default: 20,
    // 0 would make an idle worker ask an empty queue in a tight loop.
    min: 1,
    max: 20,
    description: 'long-poll wait of the worker on an empty queue',
    readBy: ['worker'],
  },
  maxAttempts: {
    kind: 'int',
    env: 'DITSERVE_MAX_ATTEMPTS',
    default: 3,
    min: 1,
    max: 100,
    description: 'starts of one job before it fails (drains do not count)',
    readBy: ['worker', 'lambda'],
  },
  retryDelaySeconds: {
    kind: 'int',
    env: 'DITSERVE_RETRY_DELAY_SECONDS',
    default: 5,
    min: 0,
    max: 900,
    description: 'backoff before a transient failure is retried, times the attempts so far',
    readBy: ['worker'],
  },
  drainSeconds: {
    kind: 'int',
    env: 'DITSERVE_DRAIN_SECONDS',
    default: 110,
    min: 0,
    max: 3600,
    description: 'on SIGTERM, time the batches in flight get before they go back to the queue',
    readBy: ['worker'],
  },
  sweepSeconds: {
    kind: 'int',
    env: 'DITSERVE_SWEEP_SECONDS',
    default: 60,
    min: 0,
    max: 3600,
    description: 'seconds between sweeps for jobs that lost their way (0: off)',
    readBy: ['worker', 'serve'],
  },
  requeueSeconds: {
    kind: 'int',
    env: 'DITSERVE_REQUEUE_SECONDS',
    default: 600,
    min: 1,
    max: 86_400,
    description: 'a queued job waiting this long gets its message sent again',
    readBy: ['worker', 'serve', 'lambda'],
  },
  healthPort: {
    kind: 'int',
    env: 'DITSERVE_HEALTH_PORT',
    default: 8081,
    min: 0,
    max: 65_535,
    description: 'port of the worker’s /healthz (the container health check)',
    readBy: ['worker'],
  },
  healthHost: {
    kind: 'string',
    env: 'DITSERVE_HEALTH_HOST',
    default: '127.0.0.1',
    description:
      'address of the worker’s /healthz: loopback (the container check runs inside it), an IP, or `task` for the task’s own address (loopback answers too)',
    readBy: ['worker'],
  },
  emf: {
    kind: 'bool',
    env: 'DITSERVE_EMF',
    default: false,
    description: 'worker metrics as CloudWatch EMF lines (on by default with the aws backend)',
    readBy: ['worker'],
  },
  bucket: {
    kind: 'string',
    env: 'DITSERVE_BUCKET',
    description: 'the S3 bucket (aws backend; required)',
    readBy: ['api', 'worker', 'lambda'],
  },
  jobsQueueUrl: {
    kind: 'string',
    env: 'DITSERVE_JOBS_QUEUE_URL',
    description: 'the SQS jobs queue (aws backend; required)',
    readBy: ['api', 'worker', 'lambda'],
  },
  webhookQueueUrl: {
    kind: 'string',
    env: 'DITSERVE_WEBHOOK_QUEUE_URL',
    description: 'the SQS webhook outbox (aws backend; required)',
    readBy: ['api', 'worker', 'lambda'],
  },
  kmsKeyArn: {
    kind: 'string',
    env: 'DITSERVE_KMS_KEY_ARN',
    description: 'SSE-KMS key for outputs (aws backend; SSE-S3 without it)',
    readBy: ['api', 'worker', 'lambda'],
  },
  maxStreamSeconds: {
    kind: 'int',
    env: 'DITSERVE_MAX_STREAM_SECONDS',
    default: 270,
    min: 10,
    max: 890,
    description: 'longest SSE stream of the API Lambda (ends before its timeout)',
    readBy: ['lambda'],
  },
  maxWaitSeconds: {
    kind: 'int',
    env: 'DITSERVE_MAX_WAIT_SECONDS',
    default: 60,
    min: 0,
    max: 270,
    description: 'longest `Prefer: wait` of the API Lambda',
    readBy: ['lambda'],
  },
  baseUrl: {
    kind: 'string',
    env: 'DITSERVE_BASE_URL',
    flag: '--base-url',
    description:
      'a running ditserve that `ditserve generate`, `jobs` and `models` talk to (e.g. http://127.0.0.1:8080)',
    readBy: ['cli'],
  },
  apiKey: {
    kind: 'string',
    env: 'DITSERVE_API_KEY',
    flag: '--api-key',
    description: 'the API key those commands send (any string in the open local mode)',
    readBy: ['cli'],
  },
  corsOrigins: {
    kind: 'string',
    env: 'DITSERVE_CORS_ORIGINS',
    description:
      'browser origins that may call the API (CORS), comma-separated, or * for any; off when unset',
    readBy: ['api', 'serve', 'lambda'],
  },
  promptBlocklist: {
    kind: 'string',
    env: 'DITSERVE_PROMPT_BLOCKLIST',
    description: 'extra blocked prompt words, comma-separated',
    readBy: ['api', 'serve', 'lambda'],
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The shipped model folders (DITSERVE_MODEL_DIRS' default), relative to the repository root. */
export const SHIPPED_MODEL_DIRS: readonly string[] = SETTINGS.modelDirs.default.split(',');
