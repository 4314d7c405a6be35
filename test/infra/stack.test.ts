// The synthesized per-brand stack: what ops and security review rely on, asserted on the CloudFormation template.
// The app is built as `cdk synth` builds it (cdk.json's context), minus esbuild: bundling has its own test.
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { reconcileKeys } from '../../shared/aws/dynamo-reconcile-store';
import { xCacheKeys } from '../../shared/aws/dynamo-x-cache';
import { QUEUES, RECONCILE, TABLE, TICKET_STREAM } from '../../shared/aws/resources';
import { METRIC_NAMES, METRIC_NAMESPACE, METRIC_SERVICE } from '../../shared/metric-names';
import { BRANDS_DIR } from '../../infra/brand-config';
import { FUNCTION_NAMES } from '../../infra/constructs/bridge-function';
import { FUNCTIONS_DIR, PROJECT_ROOT, type SupportBridgeStack } from '../../infra/stack';
import { createApp, type CreateAppOptions } from '../../infra/support-bridge-app';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties?: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const CDK_JSON = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Json };

/** The app as `cdk synth` builds it: cdk.json's context (a bare `new App()` would not read it), esbuild skipped. */
function buildApp(options: CreateAppOptions = {}): { app: App; stacks: SupportBridgeStack[] } {
  return createApp({
    functionsDir: FUNCTIONS_DIR,
    outdir: mkdtempSync(join(tmpdir(), 'sb-cdk-out-')),
    ...options,
    context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], ...options.context },
  });
}

function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.findResources(type)) as [string, Resource][];
}

function statementsOf(template: Template): Statement[] {
  return resourcesOf(template, 'AWS::IAM::Policy').flatMap(
    ([, policy]) => (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Logical ids of the policies attached to a function's role (found through the role's logical id). */
function policyStatementsOfFunction(template: Template, name: string): Statement[] {
  const fnEntry = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith(pascal(name)));
  if (!fnEntry) throw new Error(`no function ${name}`);
  const roleId = ((fnEntry[1].Properties?.Role as Json)['Fn::GetAtt'] as string[])[0];
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties?.Roles as Json[]).some((role) => role.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The logical id of the queue with this name. */
function queueId(template: Template, queueName: string): string {
  const found = resourcesOf(template, 'AWS::SQS::Queue').filter(([, queue]) => queue.Properties?.QueueName === queueName);
  if (found.length !== 1) throw new Error(`expected one queue ${queueName}, found ${found.length}`);
  return found[0]![0];
}

function queueArn(template: Template, queueName: string): { 'Fn::GetAtt': [string, 'Arn'] } {
  return { 'Fn::GetAtt': [queueId(template, queueName), 'Arn'] };
}

function logicalIdOf(template: Template, type: string, prefix: string): string {
  const found = resourcesOf(template, type).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0]![0];
}

describe('SupportBridge-example stack', () => {
  let stack: SupportBridgeStack;
  let template: Template;
  let app: App;

  beforeAll(() => {
    const built = buildApp({ only: 'example' });
    app = built.app;
    stack = built.stacks[0]!;
    template = Template.fromStack(stack);
  });

  it('is named after the brand and deploys to the brand file region', () => {
    expect(stack.stackName).toBe('SupportBridge-example');
    expect(stack.region).toBe('eu-west-1');
  });

  describe('table', () => {
    it('keeps tickets safe: PITR, deletion protection, retained, KMS-encrypted, on demand', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          // SSEEnabled without a key: the AWS-managed aws/dynamodb KMS key.
          SSESpecification: { SSEEnabled: true },
        }),
      });
    });

    it('has the shape of shared/aws/resources.ts: keys, TTL, NEW_IMAGE stream, both indexes', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        GlobalSecondaryIndexes: Match.arrayWith([
          Match.objectLike({
            IndexName: TABLE.byStatusIndex.name,
            KeySchema: [
              { AttributeName: TABLE.byStatusIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE.byStatusIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          }),
          Match.objectLike({
            IndexName: TABLE.byTicketIndex.name,
            KeySchema: [
              { AttributeName: TABLE.byTicketIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE.byTicketIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          }),
        ]),
      });
    });
  });

  describe('queues', () => {
    it('builds every queue of QUEUES with its visibility timeout and a DLQ at its maxReceiveCount', () => {
      for (const spec of Object.values(QUEUES)) {
        template.hasResourceProperties('AWS::SQS::Queue', {
          QueueName: `support-bridge-example-${spec.suffix}`,
          VisibilityTimeout: spec.visibilityTimeoutSeconds,
          RedrivePolicy: {
            deadLetterTargetArn: queueArn(template, `support-bridge-example-${spec.suffix}-dlq`),
            maxReceiveCount: spec.maxReceiveCount,
          },
        });
        template.hasResourceProperties('AWS::SQS::Queue', {
          QueueName: `support-bridge-example-${spec.suffix}-dlq`,
          MessageRetentionPeriod: 14 * 24 * 3600,
        });
      }
    });

    it('encrypts every queue and refuses non-TLS access to each', () => {
      const queues = resourcesOf(template, 'AWS::SQS::Queue');
      expect(queues).toHaveLength(Object.keys(QUEUES).length * 2 + 1);
      for (const [id, queue] of queues) {
        expect(queue.Properties?.SqsManagedSseEnabled ?? queue.Properties?.KmsMasterKeyId, id).toBeTruthy();
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('functions', () => {
    it('runs all six on Node 24, arm64, with their own log group kept for the brand file retention', () => {
      const functions = resourcesOf(template, 'AWS::Lambda::Function');
      expect(functions).toHaveLength(FUNCTION_NAMES.length);
      for (const [id, fn] of functions) {
        expect(fn.Properties?.Runtime, id).toBe('nodejs24.x');
        expect(fn.Properties?.Architectures, id).toEqual(['arm64']);
        expect(fn.Properties?.Handler, id).toBe('index.handler');
        const memory = fn.Properties?.MemorySize as number;
        expect(memory, id).toBeGreaterThanOrEqual(256);
        expect(memory, id).toBeLessThanOrEqual(512);
        const logGroup = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(template.toJSON().Resources[logGroup].Properties.RetentionInDays, id).toBe(30);
      }
      for (const [, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) {
        expect(group.Properties?.RetentionInDays).toBe(30);
      }
    });

    it('gives the SQS consumers the timeouts of QUEUES and notify the longer of its two sources', () => {
      const timeoutOf = (name: string) =>
        resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith(pascal(name)))![1].Properties
          ?.Timeout;
      expect(timeoutOf('ingest')).toBe(QUEUES.inbound.consumerTimeoutSeconds);
      expect(timeoutOf('reply')).toBe(QUEUES.reply.consumerTimeoutSeconds);
      expect(timeoutOf('notify')).toBe(
        Math.max(TICKET_STREAM.consumerTimeoutSeconds, QUEUES.notifyRetry.consumerTimeoutSeconds),
      );
      // The reconciler's lease lasts as long as its timeout: a run Lambda stopped frees it for the next tick.
      expect(timeoutOf('reconcile')).toBe(RECONCILE.timeoutSeconds);
    });

    it('reserves concurrency for the webhook, the helpdesk API, the functions calling X and the helpdesk, and one reconciler run', () => {
      const reserved = Object.fromEntries(
        resourcesOf(template, 'AWS::Lambda::Function').map(([id, fn]) => [id, fn.Properties?.ReservedConcurrentExecutions]),
      );
      expect(Object.entries(reserved).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b))).toEqual([
        [expect.stringMatching(/^HelpdeskApi/), 10],
        [expect.stringMatching(/^Notify/), 5],
        [expect.stringMatching(/^Reconcile/), 1],
        [expect.stringMatching(/^Reply/), 2],
        [expect.stringMatching(/^XWebhook/), 20],
      ]);
    });

    it('runs the reconciler every xReconcileIntervalSeconds through EventBridge Scheduler, dropping ticks it cannot run', () => {
      const fnId = logicalIdOf(template, 'AWS::Lambda::Function', 'ReconcileFunction');
      const schedules = resourcesOf(template, 'AWS::Scheduler::Schedule');
      expect(schedules).toHaveLength(1);
      const [, schedule] = schedules[0]!;
      expect(schedule.Properties).toMatchObject({
        Name: 'support-bridge-example-reconcile',
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      });
      // The schedule's role may invoke the reconciler and nothing else, and only for this account.
      const roleId = ((schedule.Properties?.Target as Json).RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const role = template.toJSON().Resources[roleId] as Resource;
      expect(JSON.stringify(role.Properties?.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
      expect(JSON.stringify(role.Properties?.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
      const statements = resourcesOf(template, 'AWS::IAM::Policy')
        .filter(([, policy]) => (policy.Properties?.Roles as Json[]).some((r) => r.Ref === roleId))
        .flatMap(([, policy]) => (policy.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
      expect(statements).toEqual([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } },
      ]);
      // A tick Lambda could not run before the next one is due is dropped, not retried behind it.
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 300,
      });
    });

    it('hands each function only the settings it needs, and secrets only as SECRET_ARN', () => {
      const common = [
        'BRAND',
        'X_BOT_USER_ID',
        'X_BOT_USERNAME',
        'POWERTOOLS_SERVICE_NAME',
        'POWERTOOLS_METRICS_NAMESPACE',
      ];
      const expected: Record<string, string[]> = {
        XWebhook: ['SECRET_ARN', 'INBOUND_QUEUE_URL'],
        // Ingest reads X (user look-ups, DM media) as the account, so it gets the secret's pointer like the others.
        Ingest: ['SECRET_ARN', 'TABLE_NAME', 'INBOUND_QUEUE_URL', 'ATTACHMENTS_BUCKET', 'MENTION_MERGE_WINDOW_HOURS', 'REOPEN_WINDOW_HOURS', 'X_READ_BUDGET_PER_DAY', 'RULES'],
        Notify: ['SECRET_ARN', 'TABLE_NAME', 'ATTACHMENTS_BUCKET', 'HELPDESK_WEBHOOK_URL', 'NOTIFY_RETRY_QUEUE_URL'],
        HelpdeskApi: ['SECRET_ARN', 'TABLE_NAME', 'ATTACHMENTS_BUCKET', 'REPLY_QUEUE_URL', 'X_REPLY_POLICY'],
        Reply: ['SECRET_ARN', 'TABLE_NAME', 'REPLY_QUEUE_URL', 'X_REPLY_POLICY'],
        Reconcile: ['SECRET_ARN', 'TABLE_NAME', 'INBOUND_QUEUE_URL', 'X_READ_BUDGET_PER_DAY', 'X_RECONCILE_INTERVAL_SECONDS', 'X_LISTEN_QUERIES'],
      };
      for (const [id, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
        const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
        const prefix = Object.keys(expected).find((p) => id.startsWith(p))!;
        expect(Object.keys(variables).sort(), id).toEqual([...common, ...expected[prefix]!].sort());
        expect(variables.SECRET_ARN, id).toEqual({ Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', 'Secret') });
        expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe(METRIC_NAMESPACE);
        expect(variables.POWERTOOLS_SERVICE_NAME).toBe(METRIC_SERVICE);
        // Stacks are mapped by the bundle itself when first written (test/infra/lambda-runtime.test.ts proves it).
        expect(variables.NODE_OPTIONS).toBeUndefined();
        // Nothing that names a secret other than the pointer to it, and no value shaped like one.
        expect(Object.keys(variables).filter((k) => /SECRET|TOKEN|PASSWORD|API_KEY/.test(k) && k !== 'SECRET_ARN'), id).toEqual([]);
        for (const value of Object.values(variables)) {
          if (typeof value !== 'string') continue;
          expect(value, id).not.toMatch(/^whsec_|^[A-Za-z0-9+/=_-]{32,}$/);
        }
      }
    });

    it('creates the brand secret with placeholders only', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: 'support-bridge/example',
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'HELPDESK_API_TOKEN' }),
      });
      const [[, secret]] = resourcesOf(template, 'AWS::SecretsManager::Secret') as [[string, Resource]];
      const placeholder = JSON.parse(
        (secret.Properties?.GenerateSecretString as { SecretStringTemplate: string }).SecretStringTemplate,
      ) as Record<string, string>;
      expect(Object.values(placeholder).every((value) => value === '')).toBe(true);
      expect(secret.Properties?.SecretString).toBeUndefined();
    });
  });

  describe('attachments bucket', () => {
    const bucketArn = () => ({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::S3::Bucket', 'AttachmentsBucket'), 'Arn'] });
    const dmMedia = () => ({ 'Fn::Join': ['', [bucketArn(), '/dm-media/*']] });

    it('is encrypted, private, TLS-only, unversioned and expires DM media after 90 days', () => {
      const buckets = resourcesOf(template, 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(1);
      const [, bucket] = buckets[0]!;
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            expect.objectContaining({ Id: 'expire-dm-media', Prefix: 'dm-media/', ExpirationInDays: 90, Status: 'Enabled' }),
          ],
        },
      });
      expect(bucket.Properties?.VersioningConfiguration).toBeUndefined();
    });

    it('has a bucket policy that only denies: non-TLS requests, and grants nothing to anyone', () => {
      const policies = resourcesOf(template, 'AWS::S3::BucketPolicy');
      expect(policies).toHaveLength(1);
      const statements = (policies[0]![1].Properties?.PolicyDocument as { Statement: (Statement & Json)[] }).Statement;
      expect(statements).toEqual([
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]);
    });

    it('grants ingest put and delete, notify and helpdesk-api get, on dm-media/* only, and nothing to the others', () => {
      const s3Statements = (name: string) =>
        policyStatementsOfFunction(template, name)
          .filter((s) => asList(s.Action).some((a) => a.startsWith('s3:')))
          .map((s) => ({ Effect: s.Effect, Action: asList(s.Action).sort(), Resource: s.Resource }));
      expect(s3Statements('ingest')).toEqual([{ Effect: 'Allow', Action: ['s3:DeleteObject', 's3:PutObject'], Resource: dmMedia() }]);
      expect(s3Statements('notify')).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: dmMedia() }]);
      expect(s3Statements('helpdesk-api')).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: dmMedia() }]);
      expect(s3Statements('x-webhook')).toEqual([]);
      expect(s3Statements('reply')).toEqual([]);
    });

    it('names the bucket to the functions that use it', () => {
      const bucketRef = { Ref: logicalIdOf(template, 'AWS::S3::Bucket', 'AttachmentsBucket') };
      for (const name of ['Ingest', 'Notify', 'HelpdeskApi']) {
        const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith(name))!;
        expect((fn.Properties?.Environment as { Variables: Json }).Variables.ATTACHMENTS_BUCKET, name).toEqual(bucketRef);
      }
      template.hasOutput('AttachmentsBucketName', { Value: bucketRef });
    });
  });

  describe('event sources', () => {
    it('feeds each queue to its consumer with partial batch failures and the batch size of QUEUES', () => {
      const consumers: [keyof typeof QUEUES, string][] = [
        ['inbound', 'Ingest'],
        ['reply', 'Reply'],
        ['notifyRetry', 'Notify'],
      ];
      for (const [queue, consumer] of consumers) {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: queueArn(template, `support-bridge-example-${QUEUES[queue].suffix}`),
          FunctionName: { Ref: logicalIdOf(template, 'AWS::Lambda::Function', consumer) },
          BatchSize: QUEUES[queue].batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
      }
    });

    it('caps the SQS pollers of reply and notify within their reserved concurrency', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalIdOf(template, 'AWS::Lambda::Function', 'Reply') },
        ScalingConfig: { MaximumConcurrency: 2 },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalIdOf(template, 'AWS::Lambda::Function', 'Notify') },
        ScalingConfig: { MaximumConcurrency: 4 },
      });
    });

    it('feeds the table stream to notify, filtered to ticket items, with retries and an on-failure queue', () => {
      const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'Tickets');
      const streamMappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').filter(
        ([, mapping]) => JSON.stringify(mapping.Properties?.EventSourceArn).includes('StreamArn'),
      );
      expect(streamMappings).toHaveLength(1);
      const props = streamMappings[0]![1].Properties!;
      expect(props).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
        FunctionName: { Ref: logicalIdOf(template, 'AWS::Lambda::Function', 'Notify') },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: TICKET_STREAM.batchSize,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: expect.any(Number),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: {
          OnFailure: { Destination: queueArn(template, 'support-bridge-example-notify-stream-failures') },
        },
      });
      const filters = (props.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
      expect(filters.map((f) => JSON.parse(f.Pattern) as unknown)).toEqual([
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'CUST#' }] }, sk: { S: [{ prefix: 'TICKET#' }] } } } },
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'CHANNEL#' }] }, sk: { S: ['CHANNEL'] } } } },
      ]);
    });
  });

  describe('HTTP API', () => {
    it('routes the webhook to x-webhook and the ticket endpoints to helpdesk-api', () => {
      const routes = resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties!);
      const targetOf = (routeKey: string) => JSON.stringify(routes.find((route) => route.RouteKey === routeKey)?.Target);
      const integrationTo = (fn: string) =>
        resourcesOf(template, 'AWS::ApiGatewayV2::Integration')
          .filter(([, integration]) => JSON.stringify(integration.Properties?.IntegrationUri).includes(logicalIdOf(template, 'AWS::Lambda::Function', fn)))
          .map(([id]) => id);
      expect(routes.map((route) => route.RouteKey).sort()).toEqual(
        [
          'GET /x/webhook',
          'POST /x/webhook',
          'GET /healthz',
          'GET /tickets',
          'GET /tickets/{ticketId}',
          'PATCH /tickets/{ticketId}',
          'GET /tickets/{ticketId}/attachments/{attachmentId}',
          'POST /tickets/{ticketId}/replies',
        ].sort(),
      );
      const [webhookIntegration] = integrationTo('XWebhook');
      const [helpdeskIntegration] = integrationTo('HelpdeskApi');
      expect(targetOf('GET /x/webhook')).toContain(webhookIntegration);
      expect(targetOf('POST /x/webhook')).toContain(webhookIntegration);
      for (const key of [
        'GET /healthz',
        'GET /tickets',
        'GET /tickets/{ticketId}',
        'PATCH /tickets/{ticketId}',
        'GET /tickets/{ticketId}/attachments/{attachmentId}',
        'POST /tickets/{ticketId}/replies',
      ]) {
        expect(targetOf(key), key).toContain(helpdeskIntegration);
      }
    });

    it('has one $default stage with JSON access logs (no headers) and throttling', () => {
      const stages = resourcesOf(template, 'AWS::ApiGatewayV2::Stage');
      expect(stages).toHaveLength(1);
      const stage = stages[0]![1].Properties!;
      expect(stage).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
      const settings = stage.AccessLogSettings as { DestinationArn: unknown; Format: string };
      expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::Logs::LogGroup', 'HttpAccessLogs'), 'Arn'] });
      const format = JSON.parse(settings.Format.replace('$context.status', '0')) as Record<string, unknown>;
      expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', brand: 'example' });
      expect(settings.Format).not.toMatch(/header|authorization|querystring/i);
    });
  });

  describe('permissions', () => {
    it('grants no wildcard actions, and a "*" resource only to dynamodb:ListStreams', () => {
      const statements = statementsOf(template);
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        for (const action of asList(statement.Action)) {
          expect(action).not.toBe('*');
          expect(action).not.toMatch(/:\*$/);
        }
        if (asList(statement.Resource).includes('*')) expect(statement.Action).toBe('dynamodb:ListStreams');
      }
    });

    it('keeps each function to its own resources', () => {
      const actionsOf = (name: string) => policyStatementsOfFunction(template, name).flatMap((s) => asList(s.Action));
      const sendTargets = (name: string) =>
        policyStatementsOfFunction(template, name)
          .filter((s) => asList(s.Action).includes('sqs:SendMessage'))
          .map((s) => JSON.stringify(s.Resource));
      const arn = (suffix: string) => JSON.stringify(queueArn(template, `support-bridge-example-${suffix}`));

      expect(actionsOf('x-webhook').filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
      expect(sendTargets('x-webhook')).toEqual([arn('inbound')]);
      expect(sendTargets('ingest')).toEqual([]);
      expect(sendTargets('helpdesk-api')).toEqual([arn('reply')]);
      expect(sendTargets('notify').sort()).toEqual([arn('notify-retry'), arn('notify-stream-failures')].sort());
      expect(sendTargets('reply')).toEqual([]);
      expect(sendTargets('reconcile')).toEqual([arn('inbound')]);
      expect(actionsOf('reconcile')).not.toContain('dynamodb:Scan');
      expect(actionsOf('reconcile')).not.toContain('dynamodb:BatchWriteItem');
      // notify only reads the table; reply consumes its queue (ChangeMessageVisibility to wait out X's rate limit).
      expect(actionsOf('notify')).not.toContain('dynamodb:PutItem');
      expect(actionsOf('reply')).toEqual(expect.arrayContaining(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']));
      expect(actionsOf('ingest')).not.toContain('dynamodb:Scan');
      // ingest consumes the inbound queue and hides an item X could not name for its backoff; it never sends to it.
      expect(actionsOf('ingest')).toEqual(expect.arrayContaining(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']));
      for (const name of FUNCTION_NAMES) {
        expect(actionsOf(name), name).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
        expect(actionsOf(name), name).not.toContain('logs:CreateLogGroup');
      }
    });

    it('lets the reconciler read the table and both indexes, and write only its own items and the brand read counters', () => {
      const tableArn = { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::DynamoDB::Table', 'TicketsTable'), 'Arn'] };
      const dynamo = policyStatementsOfFunction(template, 'reconcile').filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')));
      const writes = dynamo.filter((s) => asList(s.Action).some((a) => /Put|Update|Delete|Write/.test(a)));
      expect(writes).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: tableArn,
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['RECONCILE#example', 'XREADS#example#*'] } },
        },
      ]);
      // The partition keys the grant names are the ones the adapters write.
      expect(reconcileKeys.lease('example').pk).toBe('RECONCILE#example');
      expect(reconcileKeys.state('example').pk).toBe('RECONCILE#example');
      expect(xCacheKeys.readDay('example', '2026-01-01').pk).toMatch(/^XREADS#example#/);
      const reads = dynamo.filter((s) => !writes.includes(s));
      expect(reads.flatMap((s) => asList(s.Action)).sort()).toEqual(
        ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'].sort(),
      );
      expect(JSON.stringify(reads.map((s) => s.Resource))).toContain('/index/byStatus');
    });

    it('attaches no managed policies to the function roles', () => {
      for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
        expect(role.Properties?.ManagedPolicyArns, id).toBeUndefined();
      }
    });
  });

  describe('observability', () => {
    it('sends alarms to a KMS-encrypted, TLS-only topic mailing the brand alarm address', () => {
      const topicId = logicalIdOf(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: topicId },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      for (const [id, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
        expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: topicId }]);
      }
    });

    it('alarms on every dead-letter queue, every function, webhook 5xx, reply failures and dead-lettered events', () => {
      const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties!);
      const dlqAlarms = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
      expect(dlqAlarms).toHaveLength(4);
      for (const alarm of dlqAlarms) expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(alarms.filter((a) => a.MetricName === 'Errors' && a.Namespace === 'AWS/Lambda')).toHaveLength(FUNCTION_NAMES.length);
      const custom = (name: string) => alarms.find((a) => a.MetricName === name && a.Namespace === METRIC_NAMESPACE);
      expect(custom('WebhookServerErrors')).toMatchObject({ Dimensions: [{ Name: 'brand', Value: 'example' }] });
      for (const name of [METRIC_NAMES.RepliesFailed, METRIC_NAMES.DeliveryFailed]) {
        expect(custom(name), name).toMatchObject({
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          Statistic: 'Sum',
          Dimensions: expect.arrayContaining([
            { Name: 'brand', Value: 'example' },
            { Name: 'service', Value: METRIC_SERVICE },
          ]),
        });
      }
    });

    it('alarms when the channel is silent for silentChannelHours, counting missing data as silence', () => {
      const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties!);
      expect(alarms.find((a) => a.MetricName === METRIC_NAMES.WebhookEventsIn)).toMatchObject({
        Namespace: METRIC_NAMESPACE,
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 24,
        DatapointsToAlarm: 24,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it('counts webhook 5xx from the access logs', () => {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logicalIdOf(template, 'AWS::Logs::LogGroup', 'HttpAccessLogs') },
        FilterPattern: Match.stringLikeRegexp('/x/webhook.*\\$\\.status >= 500'),
        MetricTransformations: [Match.objectLike({ MetricNamespace: METRIC_NAMESPACE, MetricName: 'WebhookServerErrors' })],
      });
    });

    it('has a dashboard named after the brand showing every custom metric', () => {
      const [[, dashboard]] = resourcesOf(template, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
      expect(dashboard.Properties?.DashboardName).toBe('SupportBridge-example');
      const body = JSON.stringify(dashboard.Properties?.DashboardBody);
      for (const name of Object.values(METRIC_NAMES)) expect(body, name).toContain(name);
    });

    it('outputs what ops need after deploy', () => {
      const outputs = Object.keys(template.toJSON().Outputs as Json);
      expect(outputs).toEqual(
        expect.arrayContaining([
          'ApiUrl',
          'WebhookUrl',
          'SecretName',
          'DashboardName',
          'DeadLetterQueueInbound',
          'DeadLetterQueueNotifyRetry',
          'DeadLetterQueueReply',
          'DeadLetterQueueNotifyStreamFailures',
          'AttachmentsBucketName',
        ]),
      );
      template.hasOutput('SecretName', { Value: 'support-bridge/example' });
    });
  });

  describe('security rule pack', () => {
    it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
      const report = new AwsSolutionsChecks().validateScope(app);
      const findings = report.violations.map(
        (v) => `${v.ruleName} (${v.severity}): ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings).toEqual([]);
      expect(report.success).toBe(true);
    });

    it('acknowledges findings only with a stated reason', () => {
      const acknowledged: { path: string; id: string; reason: string }[] = [];
      const visit = (construct: { node: App['node'] }) => {
        for (const entry of construct.node.metadata) {
          if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            acknowledged.push({ path: construct.node.path, id, reason });
          }
        }
        for (const child of construct.node.children) visit(child);
      };
      visit(app);
      const bucketPrefix = `AwsSolutions-IAM5[Resource::<${logicalIdOf(template, 'AWS::S3::Bucket', 'AttachmentsBucket')}.Arn>/dm-media/*]`;
      expect(acknowledged.map((a) => a.id.replace(/^annotation::/i, '')).sort()).toEqual(
        [
          'AwsSolutions-APIG4',
          'AwsSolutions-IAM5[Resource::*]',
          'AwsSolutions-SMG4',
          'AwsSolutions-SQS3',
          'AwsSolutions-S1',
          // One per role granted object actions on the dm-media/ prefix: ingest, notify, helpdesk-api.
          bucketPrefix,
          bucketPrefix,
          bucketPrefix,
        ].sort(),
      );
      for (const { id, reason } of acknowledged) expect(reason.length, id).toBeGreaterThan(80);
    });

    it('synthesizes without warnings or errors', () => {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    });
  });
});

describe('several brands', () => {
  let stacks: SupportBridgeStack[];

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-brands-'));
    copyFileSync(join(BRANDS_DIR, 'example.json'), join(dir, 'example.json'));
    writeFileSync(
      join(dir, 'acme.json'),
      JSON.stringify({
        brand: 'acme',
        account: '123456789012',
        region: 'us-east-1',
        xBotUserId: '42',
        xBotUsername: 'AcmeHelp',
        helpdeskWebhookUrl: 'https://acme.helpdesk.test/x',
        alarmEmail: 'oncall@acme.test',
        silentChannelHours: 6,
        logRetentionDays: 90,
        xReconcileIntervalSeconds: 0,
      }),
    );
    ({ stacks } = buildApp({ brandsDir: dir }));
  });

  it('builds one stack per brand file', () => {
    expect(stacks.map((s) => s.stackName).sort()).toEqual(['SupportBridge-acme', 'SupportBridge-example']);
  });

  it('narrows to one brand with -c brand=<brand>', () => {
    const { stacks: only } = buildApp({ context: { brand: 'example' } });
    expect(only.map((s) => s.stackName)).toEqual(['SupportBridge-example']);
  });

  it('shares nothing between brands: own table, queues, secret and roles, no cross-references', () => {
    const [acme, example] = [...stacks].sort((a, b) => a.stackName.localeCompare(b.stackName));
    const templates = [acme!, example!].map((s) => JSON.stringify(Template.fromStack(s).toJSON()));
    const [acmeJson, exampleJson] = templates as [string, string];
    expect(acme!.dependencies).toEqual([]);
    expect(example!.dependencies).toEqual([]);
    for (const json of templates) {
      expect(json).not.toMatch(/Fn::ImportValue|Fn::GetStackOutput|ExportsReader|ExportsWriter/);
    }
    expect(acmeJson).not.toContain('example');
    expect(exampleJson).not.toMatch(/acme/);
    expect(acmeJson).toContain('support-bridge/acme');
    expect(acmeJson).toContain('support-bridge-acme-inbound');
    // Everything an IAM statement points at is a resource of its own stack (Ref/GetAtt), never a literal ARN.
    for (const stack of [acme!, example!]) {
      const template = Template.fromStack(stack);
      const local = new Set(Object.keys(template.toJSON().Resources as Json));
      for (const statement of statementsOf(template)) {
        for (const resource of asList(statement.Resource)) {
          if (resource === '*') continue;
          const refs = JSON.stringify(resource).match(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/g) ?? [];
          expect(refs.length, JSON.stringify(resource)).toBeGreaterThan(0);
          for (const ref of refs) expect(local.has(ref.replace(/.*"([A-Za-z0-9]+)"$/, '$1'))).toBe(true);
        }
      }
    }
  });

  it('deploys the reconciler without a schedule when xReconcileIntervalSeconds is 0', () => {
    const acme = Template.fromStack(stacks.find((s) => s.stackName === 'SupportBridge-acme')!);
    acme.resourceCountIs('AWS::Scheduler::Schedule', 0);
    acme.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length);
  });

  it('takes each brand settings from its own file', () => {
    const acme = Template.fromStack(stacks.find((s) => s.stackName === 'SupportBridge-acme')!);
    expect(stacks.find((s) => s.stackName === 'SupportBridge-acme')!.account).toBe('123456789012');
    acme.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    acme.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRIC_NAMES.WebhookEventsIn, EvaluationPeriods: 6 });
    acme.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BRAND: 'acme', X_BOT_USER_ID: '42', HELPDESK_WEBHOOK_URL: 'https://acme.helpdesk.test/x' }) },
    });
  });
});

describe('cdk.json', () => {
  it('sets only feature flags aws-cdk-lib knows and has not retired', () => {
    const flags = Object.keys(CDK_JSON.context).filter((key) => key.startsWith('@aws-cdk'));
    expect(flags.length).toBeGreaterThan(0);
    const known = new Set(Object.keys(cxapi.FLAGS));
    const expired = new Set(cxapi.CURRENT_VERSION_EXPIRED_FLAGS);
    expect(flags.filter((flag) => !known.has(flag))).toEqual([]);
    expect(flags.filter((flag) => expired.has(flag))).toEqual([]);
  });

  it('keeps the CLI from phoning home', () => {
    expect(CDK_JSON.context['cli-telemetry']).toBe(false);
  });
});
