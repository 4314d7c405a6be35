// The brand's attachments bucket: the bridge's copies of DM media (shared/attachments/). Private by every means S3
// has: all public access blocked, no bucket policy but the TLS-only one, objects owned by the bucket (no ACLs),
// encrypted at rest, and deleted by a lifecycle rule after `expirationDays`. Grants are per action and per prefix.
import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DM_MEDIA_PREFIX } from '../../shared/attachments/attachment-store';

/**
 * How long a copy is kept: 90 days. Long enough for a ticket's whole life (a solved ticket reopens within a week by
 * default), short enough that customers' files do not pile up; a redaction deletes a copy at once whatever this says.
 */
export const ATTACHMENT_EXPIRATION_DAYS = 90;

export type AttachmentsBucketProps = { expirationDays?: number };

/** The bucket and its least-privilege grants. */
export class AttachmentsBucket extends Construct {
  /** The bucket (its name reaches the functions as ATTACHMENTS_BUCKET). */
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AttachmentsBucketProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3: encrypted at rest with no key to grant, so a presigned GET works for any holder of the link without
      // a kms:Decrypt grant on the signer (a KMS key would add one per reader and buy nothing here: the bucket is
      // private and the links are the access control).
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // No versioning: a redaction must remove the file (X's policy), not leave it behind as an old version.
      versioned: false,
      lifecycleRules: [
        {
          id: 'expire-dm-media',
          prefix: DM_MEDIA_PREFIX,
          expiration: Duration.days(props.expirationDays ?? ATTACHMENT_EXPIRATION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Kept when the stack is deleted, like the table, so a mistaken deletion loses nothing; the lifecycle rule
      // still empties it, and ops delete it with the table once a brand is retired.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access logs: the only callers are the bridge functions (IAM-authorised, logged in their own log ' +
        'groups) and holders of an hour-long presigned link that the helpdesk API issues and logs. A log bucket would ' +
        'keep a second copy of every object key for nothing an audit needs.',
    });
  }

  /** Writes and deletes of DM media copies only (ingest: a copy, and its removal on redaction). */
  grantPutDelete(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnDmMedia(grantee, ['s3:PutObject', 's3:DeleteObject']);
  }

  /** Reads of DM media copies only: a presigned GET acts with its signer's rights, so signing links needs this. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnDmMedia(grantee, ['s3:GetObject']);
  }

  private grantOnDmMedia(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.bucket.arnForObjects(`${DM_MEDIA_PREFIX}*`)] });
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${DM_MEDIA_PREFIX}*]`,
        reason:
          `Object actions on the attachments bucket are granted on the ${DM_MEDIA_PREFIX} prefix, where the bridge keeps ` +
          'DM media copies (one object per media, keyed by X ids, created as DMs arrive): no narrower resource exists, ' +
          `and the actions are named one by one (${actions.join(', ')}).`,
      });
    }
    return grant;
  }
}
