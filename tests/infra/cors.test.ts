import { describe, expect, it } from 'vitest';
import { propsFromContext } from '../../infra/context.ts';
import { buildStack, resourcesOf } from './helpers.ts';

/** The environment of the API function (the one whose variables name the model folder). */
function apiEnvironment(props: Parameters<typeof buildStack>[0]): Record<string, unknown> {
  const { template } = buildStack(props);
  const api = resourcesOf(template, 'AWS::Lambda::Function')
    .map(
      ([, r]) =>
        (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables ?? {},
    )
    .filter((v) => 'DITSERVE_MODEL_DIRS' in v && 'DITSERVE_MAX_STREAM_SECONDS' in v);
  expect(api).toHaveLength(1);
  return api[0] ?? {};
}

describe('CORS on AWS', () => {
  it('is off unless origins are given', () => {
    expect(apiEnvironment({})).not.toHaveProperty('DITSERVE_CORS_ORIGINS');
  });

  it('passes the origins to the API function (-c corsOrigins=a,b)', () => {
    const corsOrigins = propsFromContext((k) =>
      k === 'corsOrigins' ? 'https://app.example.com, http://localhost:5173' : undefined,
    ).corsOrigins;
    expect(corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(apiEnvironment({ corsOrigins: corsOrigins ?? [] })).toMatchObject({
      DITSERVE_CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
    });
  });
});
