import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3DeliveryLog } from '../../core/adapters/aws/s3-delivery-log.ts';
import { deliveryLogPrefix } from '../../core/ports/delivery-log.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';

// The DeliveryLog contract runs with the other adapter contracts (tests/core/contracts/); here,
// what is the S3 adapter's own. Real S3 semantics: startMoto fails with how to install
// moto_server where it is missing, rather than skipping.
describe('S3 delivery log against moto_server', () => {
  let moto: Moto | undefined;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await startMoto();
    s3 = moto.s3;
  });
  afterAll(async () => {
    await moto?.stop();
  });
  async function bucket(): Promise<string> {
    const name = `deliveries-${randomUUID()}`;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  }

  it('keeps entries under webhooks/{tenant}/{jobId}/deliveries/, named by time', async () => {
    const name = await bucket();
    const log = new S3DeliveryLog(s3, name);
    await log.append('acme', 'gen_x', {
      webhookId: 'msg_1',
      type: 'generation.failed',
      attempt: 1,
      at: '2025-01-01T00:00:00.000Z',
      outcome: 'gone',
      statusCode: 410,
      durationMs: 3,
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: name }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([
      expect.stringMatching(
        /^webhooks\/acme\/gen_x\/deliveries\/001735689600000-0001-[0-9a-f]{8}\.json$/,
      ),
    ]);
  });
});

describe('delivery log keys', () => {
  it('refuses ids that could escape their prefix', () => {
    expect(() => deliveryLogPrefix('acme', '../other')).toThrow(RangeError);
    expect(() => deliveryLogPrefix('a/b', 'gen_1')).toThrow(RangeError);
    expect(deliveryLogPrefix('acme', 'gen_1')).toBe('webhooks/acme/gen_1/deliveries/');
  });
});
