import type { DitserveStackProps } from './stack.ts';

type Get = (key: string) => unknown;

/**
 * Stack props from CDK context (`cdk deploy -c instanceType=g6.xlarge -c spot=true`, or the
 * "context" object of cdk.json). Values from the command line arrive as strings.
 */
export function propsFromContext(get: Get): DitserveStackProps {
  const str = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new Error(`context ${key} must be a string, number or boolean`);
    }
    return String(v);
  };
  const num = (key: string): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`context ${key} must be a number, got "${v}"`);
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    throw new Error(`context ${key} must be true or false, got "${v}"`);
  };
  const list = (key: string): string[] | undefined =>
    str(key)
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);

  const props: Record<string, unknown> = {
    instanceType: str('instanceType'),
    spotInstanceTypes: list('spotInstanceTypes'),
    spot: bool('spot'),
    minTasks: num('minTasks'),
    maxTasks: num('maxTasks'),
    targetBacklogPerTask: num('targetBacklogPerTask'),
    models: list('models'),
    batchSize: num('batchSize'),
    outputRetentionDays: num('outputRetentionDays'),
    recordRetentionDays: num('recordRetentionDays'),
    logRetention: num('logRetentionDays'),
    domainName: str('domainName'),
    certificateArn: str('certificateArn'),
    webAclArn: str('webAclArn'),
    throttleRateLimit: num('throttleRateLimit'),
    throttleBurstLimit: num('throttleBurstLimit'),
    apiReservedConcurrency: num('apiReservedConcurrency'),
    corsOrigins: list('corsOrigins'),
    imageUri: str('imageUri'),
    imageTag: str('imageTag'),
    alarmEmail: str('alarmEmail'),
    maxJobAgeSeconds: num('maxJobAgeSeconds'),
  };
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
}
