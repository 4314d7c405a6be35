// The brand's single DynamoDB table, built from shared/aws/resources.ts TABLE (the local runner builds the same
// shape on DynamoDB Local). Its stream is what turns every ticket change into a helpdesk event.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE } from '../../shared/aws/resources';

// Spelled out rather than CDK's grantRead/grantReadWriteData: those add Scan and `index/*`, and the bridge never
// scans (lists go through the byStatus index) and has exactly two indexes.
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/** The tickets table: on-demand, point-in-time recovery, deletion protection, encrypted, TTL, NEW_IMAGE stream. */
export class TicketTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const S = dynamodb.AttributeType.STRING;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: S },
      sortKey: { name: TABLE.sortKey, type: S },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Tickets are the customer record: neither a stack deletion nor a mistaken replacement may drop them.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE.ttlAttribute,
      // NEW_IMAGE is all notify needs: the ticket as it is after the change, with its sequence number.
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.byStatusIndex.name,
      partitionKey: { name: TABLE.byStatusIndex.partitionKey, type: S },
      sortKey: { name: TABLE.byStatusIndex.sortKey, type: S },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.byTicketIndex.name,
      partitionKey: { name: TABLE.byTicketIndex.partitionKey, type: S },
      sortKey: { name: TABLE.byTicketIndex.sortKey, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  private resources(): string[] {
    const arn = this.table.tableArn;
    return [arn, `${arn}/index/${TABLE.byStatusIndex.name}`, `${arn}/index/${TABLE.byTicketIndex.name}`];
  }

  /** Item and index reads on this table only. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: READ_ACTIONS, resourceArns: this.resources() });
  }

  /**
   * Item writes (put, update, delete; conditional ones included) on this table only, and only to items whose partition
   * key matches one of `partitionKeys` (IAM's StringLike: `*` matches any characters). For a function that reads
   * tickets but writes only its own items: IAM checks dynamodb:LeadingKeys on every single-item write.
   */
  grantWriteToPartitions(grantee: iam.IGrantable, partitionKeys: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': partitionKeys } },
    });
  }

  /** Item reads and writes (including conditional and transactional writes) on this table only. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...READ_ACTIONS, ...WRITE_ACTIONS],
      resourceArns: this.resources(),
    });
  }
}
