import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * An S3Client backed by a Map, for the DeliveryLog contract on machines without moto_server (CI
 * is bare Node). Only the three calls the adapter makes; listings page two keys at a time so the
 * adapter's continuation handling is exercised too.
 */
export function fakeS3(): S3Client {
  const objects = new Map<string, string>();
  const client = new S3Client({ region: 'us-east-1' });
  const mock = mockClient(client);
  mock.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: string }) => {
    objects.set(`${input.Bucket}/${input.Key}`, input.Body);
    return {};
  });
  mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const text = objects.get(`${input.Bucket}/${input.Key}`);
    if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: { transformToString: () => Promise.resolve(text) } };
  });
  mock
    .on(ListObjectsV2Command)
    .callsFake((input: { Bucket: string; Prefix: string; ContinuationToken?: string }) => {
      const keys = [...objects.keys()]
        .filter((k) => k.startsWith(`${input.Bucket}/${input.Prefix}`))
        .map((k) => k.slice(input.Bucket.length + 1))
        .sort();
      const start = Number(input.ContinuationToken ?? 0);
      const page = keys.slice(start, start + 2);
      const more = start + 2 < keys.length;
      return {
        Contents: page.map((Key) => ({ Key })),
        IsTruncated: more,
        ...(more ? { NextContinuationToken: String(start + 2) } : {}),
      };
    });
  return client;
}
