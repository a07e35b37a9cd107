import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, httpStatusOf } from '../../core/errors.ts';
import { InvalidTransitionError } from '../../core/job.ts';
import * as sampler from '../../gpu-worker/src/sampler/errors.ts';

describe('error code → HTTP status', () => {
  it('maps every sampler and job error class through the table', () => {
    const errors = [
      ...Object.values(sampler).map((E) => new E('x')),
      new InvalidTransitionError('x'),
    ];
    for (const e of errors) expect(httpStatusOf(e)).toBe(HTTP_STATUS[e.code]);
    expect(httpStatusOf(new sampler.InvalidRequestError('steps: too many'))).toBe(422);
  });

  it('answers 500 for errors ditserve did not raise, and only statuses in 4xx/5xx', () => {
    expect(httpStatusOf(new TypeError('bug'))).toBe(500);
    for (const status of Object.values(HTTP_STATUS)) {
      expect(status >= 400 && status < 600).toBe(true);
    }
  });
});
