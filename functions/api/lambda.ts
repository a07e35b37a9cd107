// @hono/aws-lambda (its announced successor) is not published yet; hono/aws-lambda still ships.

import { streamHandle } from 'hono/aws-lambda';
import { createApp } from './app.ts';
import { lambdaDeps } from './lambda-deps.ts';

/** The API on Lambda with response streaming (SSE works through API Gateway's STREAM mode). */
// eslint-disable-next-line @typescript-eslint/no-deprecated
export const handler = streamHandle(createApp(await lambdaDeps()));
