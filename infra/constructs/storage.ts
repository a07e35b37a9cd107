import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { cdkInterface } from '../cdk-types.ts';
import { OUTPUT_EXPIRY_TAG, PREFIXES, type Prefix } from '../../core/storage-layout.ts';
import { requireWholeNumber } from '../validate.ts';

/** The bucket's layout is the code's (core/storage-layout.ts): grants and rules follow it. */
export const BUCKET_PREFIXES = PREFIXES;
export type BucketPrefix = Prefix;

export interface DitserveStorageProps {
  /** Days before generated images (`jobs/{tenant}/{id}/out/*`) expire. */
  readonly outputRetentionDays: number;
  /** Days before job records, listing index entries and idempotency claims expire. */
  readonly recordRetentionDays: number;
  /** @default - SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /**
   * Whether deleting the stack deletes the bucket and everything in it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The one bucket of ditserve (job store, outputs, keys, webhook secrets and logs), plus the
 * bucket that receives its server access logs.
 *
 * Versioning is off on purpose: job records are rewritten at every progress step (≤ 1/s per
 * job), so versions would multiply storage for no recovery value; conditional writes use ETags,
 * which need no versioning; and expired outputs should be gone, not kept as noncurrent versions.
 */
export class DitserveStorage extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DitserveStorageProps) {
    super(scope, id);
    const { outputRetentionDays: outputs, recordRetentionDays: records } = props;
    requireWholeNumber('outputRetentionDays', outputs, 1);
    requireWholeNumber(
      'recordRetentionDays',
      records,
      outputs,
      Infinity,
      'at least outputRetentionDays',
    );
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      ...(props.encryptionKey
        ? {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: props.encryptionKey,
            bucketKeyEnabled: true,
          }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: cdkInterface<s3.IBucket>(this.accessLogsBucket),
      serverAccessLogsPrefix: 'ditserve-bucket/',
      lifecycleRules: this.lifecycleRules(outputs, records),
      removalPolicy,
      autoDeleteObjects,
    });
  }

  /**
   * S3 lifecycle filters match literal prefixes, tags and sizes, never a middle path segment, so
   * `jobs/{tenant}/{id}/out/*` cannot be a prefix rule. Outputs expire by the object tag
   * {@link OUTPUT_EXPIRY_TAG} (set by the writer), and everything under `jobs/` (records, and
   * outputs stored without the tag) by the longer record rule.
   */
  private lifecycleRules(outputs: number, records: number): s3.LifecycleRule[] {
    const abort = { abortIncompleteMultipartUploadAfter: Duration.days(1) };
    return [
      {
        id: 'expire-outputs',
        prefix: BUCKET_PREFIXES.jobs,
        tagFilters: { [OUTPUT_EXPIRY_TAG.key]: OUTPUT_EXPIRY_TAG.value },
        expiration: Duration.days(outputs),
      },
      {
        id: 'expire-job-records',
        prefix: BUCKET_PREFIXES.jobs,
        expiration: Duration.days(records),
        ...abort,
      },
      {
        id: 'expire-index',
        prefix: BUCKET_PREFIXES.index,
        expiration: Duration.days(records),
        ...abort,
      },
      {
        id: 'expire-idempotency',
        prefix: BUCKET_PREFIXES.idempotency,
        expiration: Duration.days(records),
        ...abort,
      },
      {
        id: 'expire-delivery-logs',
        prefix: BUCKET_PREFIXES.webhooks,
        expiration: Duration.days(records),
        ...abort,
      },
    ];
  }

  /**
   * Grants the listed actions on objects under the given prefixes, plus `s3:ListBucket` on the
   * bucket (listing pages and HeadBucket need it), and the KMS use that SSE-KMS needs.
   */
  public grantObjects(
    grantee: iam.IGrantable,
    actions: readonly (
      's3:GetObject' | 's3:PutObject' | 's3:DeleteObject' | 's3:PutObjectTagging'
    )[],
    prefixes: readonly BucketPrefix[],
  ): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: prefixes.map((p) => this.bucket.arnForObjects(`${BUCKET_PREFIXES[p]}*`)),
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    const key = this.bucket.encryptionKey;
    if (key) {
      if (actions.includes('s3:GetObject')) key.grantDecrypt(grantee);
      if (actions.includes('s3:PutObject')) key.grantEncryptDecrypt(grantee);
    }
  }
}
