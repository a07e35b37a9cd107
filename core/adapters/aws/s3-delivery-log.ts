import { randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  deliveryEntryName,
  deliveryLogPrefix,
  type DeliveryAttempt,
  type DeliveryLog,
} from '../../ports/delivery-log.ts';

/**
 * DeliveryLog in S3: one object per attempt under `webhooks/{tenant}/{jobId}/deliveries/`.
 * Separate objects need no read-modify-write (S3 has no append), so concurrent Lambda
 * dispatchers cannot lose each other's entries; keys sort by time, so a listing is the log.
 */
export class S3DeliveryLog implements DeliveryLog {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
  }

  async append(tenant: string, jobId: string, attempt: DeliveryAttempt): Promise<void> {
    const key =
      deliveryLogPrefix(tenant, jobId) + deliveryEntryName(attempt, randomBytes(4).toString('hex'));
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: JSON.stringify(attempt),
        ContentType: 'application/json',
      }),
    );
  }

  async list(tenant: string, jobId: string): Promise<DeliveryAttempt[]> {
    const prefix = deliveryLogPrefix(tenant, jobId);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#s3.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    keys.sort();
    return Promise.all(keys.map((key) => this.#read(key)));
  }

  async #read(key: string): Promise<DeliveryAttempt> {
    const object = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
    const text = await object.Body?.transformToString('utf8');
    if (text === undefined) throw new Error(`empty delivery log entry ${key}`);
    return JSON.parse(text) as DeliveryAttempt;
  }
}
