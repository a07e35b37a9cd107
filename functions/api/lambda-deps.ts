import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { awsBackendFromEnv } from '../../core/backend/aws.ts';
import { read } from '../../core/config.ts';
import { configuredPublicUrl } from '../../core/public-url.ts';
import { SETTINGS } from '../../core/settings.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { checkWebhookUrl, webhookPolicyFromEnv } from '../../core/webhooks/url-policy.ts';
import type { ApiDeps } from './deps.ts';
import { corsOriginsFromEnv } from './middleware/cors.ts';
import type { Logger } from '../../core/logger.ts';
import { policyFromEnv } from './services/prompt-policy.ts';

/** Powertools' Logger behind our Logger interface: structured JSON with Lambda context. */
function powertoolsLogger(): Logger {
  const logger = new PowertoolsLogger({ serviceName: 'ditserve-api' });
  return {
    info: (message, fields) => {
      logger.info(message, fields ?? {});
    },
    warn: (message, fields) => {
      logger.warn(message, fields ?? {});
    },
    error: (message, fields) => {
      logger.error(message, fields ?? {});
    },
  };
}

/** The API's ports on AWS, read once per Lambda instance from the stack's environment. */
export async function lambdaDeps(env = process.env): Promise<ApiDeps> {
  const backend = awsBackendFromEnv(env);
  const modelDirs = read(env, SETTINGS.modelDirs).split(',');
  return {
    ...backend,
    models: await loadModelCatalog(modelDirs),
    auth: { kind: 'keys' },
    // The stack's API URL (stage included): links never come from the Host header.
    publicUrl: configuredPublicUrl(env),
    // The function's timeout ends a stream anyway; end it first so EventSource reconnects cleanly.
    limits: {
      maxStreamSeconds: read(env, SETTINGS.maxStreamSeconds),
      maxWaitSeconds: read(env, SETTINGS.maxWaitSeconds),
    },
    logger: powertoolsLogger(),
    checkWebhookUrl: (url) => checkWebhookUrl(url, webhookPolicyFromEnv(env)),
    promptPolicy: policyFromEnv(env),
    corsOrigins: corsOriginsFromEnv(env),
  };
}
