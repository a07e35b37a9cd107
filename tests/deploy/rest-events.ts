import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { ACCOUNT, REGION } from './rehearsal.ts';

export const STAGE = 'prod';
export const API_DOMAIN = `a1b2c3d4e5.execute-api.${REGION}.amazonaws.com`;

/**
 * An API Gateway REST API (v1 payload) Lambda proxy event, as the `{proxy+}` resource of the
 * stack's `prod` stage sends it: the stage stripped from `path`, kept in `requestContext.path`,
 * every header also in `multiValueHeaders`, the body base64-encoded when asked (what API Gateway
 * does for binary media types).
 */
export function restEvent(options: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
  base64?: boolean;
}): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Host: API_DOMAIN,
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Port': '443',
    'User-Agent': 'ditserve-deploy-test',
    ...options.headers,
  };
  const query = options.query;
  const requestTime = new Date();
  return {
    resource: options.path === '/' ? '/' : '/{proxy+}',
    path: options.path,
    httpMethod: options.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query ?? null,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: options.path === '/' ? null : { proxy: options.path.slice(1) },
    stageVariables: null,
    body:
      options.body === undefined
        ? null
        : options.base64
          ? Buffer.from(options.body).toString('base64')
          : options.body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_DOMAIN.split('.')[0] ?? '',
      authorizer: null,
      domainName: API_DOMAIN,
      domainPrefix: API_DOMAIN.split('.')[0] ?? '',
      extendedRequestId: randomUUID(),
      httpMethod: options.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: null,
        userAgent: headers['User-Agent'] ?? null,
        userArn: null,
      },
      path: `/${STAGE}${options.path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: requestTime.toUTCString(),
      requestTimeEpoch: requestTime.getTime(),
      resourceId: 'abc123',
      resourcePath: options.path === '/' ? '/' : '/{proxy+}',
      stage: STAGE,
    },
  };
}

/** What a client calls for a path the function sees. */
export const publicUrl = (path: string) => `https://${API_DOMAIN}/${STAGE}${path}`;

/**
 * The function-side path of a link as a client follows it (absolute, or relative to the URL it
 * called): it must point into the stage, which API Gateway then strips.
 */
export function pathOf(link: string): string {
  const url = new URL(link, publicUrl('/'));
  if (!url.pathname.startsWith(`/${STAGE}/`))
    throw new Error(`${link} is not a link into the ${STAGE} stage`);
  return url.pathname.slice(STAGE.length + 1) + url.search;
}

/** An SQS event source batch, built from messages received from the queue (Lambda's shape). */
export function sqsEvent(queueUrl: string, messages: readonly Message[]): SQSEvent {
  const name = queueUrl.split('/').at(-1) ?? '';
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? ACCOUNT,
        ApproximateFirstReceiveTimestamp:
          m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
      awsRegion: REGION,
    })),
  };
}

/** The EventBridge scheduled event a `rate(1 minute)` rule sends. */
export function scheduledEvent(ruleName: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${ruleName}`],
    detail: {},
  };
}
