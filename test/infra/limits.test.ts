// The limits on paper (infra/constructs/limits.ts; README, "How far one brand's stack goes") are what the template
// deploys: X's webhook route throttled apart from the helpdesk's routes, reserved concurrency for both functions behind
// them, the ingest event source capped, and a brand's reservations small enough for many brands per account.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT_CONCURRENCY,
  HELPDESK_API_RESERVED_CONCURRENCY,
  INGEST_MAX_CONCURRENCY,
  WEBHOOK_RESERVED_CONCURRENCY,
  WEBHOOK_ROUTE,
  X_ANSWER_DEADLINE_SECONDS,
  webhookBurstSeconds,
} from '../../infra/constructs/limits';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '../../infra/stack';
import { createApp } from '../../infra/support-bridge-app';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] };

const CDK_JSON = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

let resources: Record<string, Resource>;

beforeAll(() => {
  const { stacks } = createApp({
    only: 'example',
    functionsDir: FUNCTIONS_DIR,
    outdir: mkdtempSync(join(tmpdir(), 'sb-limits-')),
    context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] },
  });
  resources = Template.fromStack(stacks[0]!).toJSON().Resources as Record<string, Resource>;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const fnId = (prefix: string) => ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(`${prefix}Function`))![0];

describe('limits per route and per function', () => {
  it("throttles X's webhook routes apart from the helpdesk's, which keep the brand's apiThrottling", () => {
    const [[stageId, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
    const brand = JSON.parse(readFileSync(join(PROJECT_ROOT, 'infra', 'brands', 'example.json'), 'utf8')) as {
      apiThrottling: { rateLimit: number; burstLimit: number };
    };
    expect(stage.Properties?.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: brand.apiThrottling.rateLimit,
      ThrottlingBurstLimit: brand.apiThrottling.burstLimit,
    });
    const webhook = { ThrottlingRateLimit: WEBHOOK_ROUTE.rateLimit, ThrottlingBurstLimit: WEBHOOK_ROUTE.burstLimit };
    expect(stage.Properties?.RouteSettings).toEqual({ 'GET /x/webhook': webhook, 'POST /x/webhook': webhook });
    // The stage names the routes by key: CloudFormation must create them first.
    const webhookRoutes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => String(r.Properties?.RouteKey).endsWith(' /x/webhook'));
    expect(webhookRoutes).toHaveLength(2);
    for (const [routeId] of webhookRoutes) expect(resources[stageId]!.DependsOn ?? [], routeId).toContain(routeId);
  });

  it('reserves concurrency for the webhook and the helpdesk API apart, and caps ingest', () => {
    const reserved = (prefix: string) => resources[fnId(prefix)]!.Properties?.ReservedConcurrentExecutions;
    expect(reserved('XWebhook')).toBe(WEBHOOK_RESERVED_CONCURRENCY);
    expect(reserved('HelpdeskApi')).toBe(HELPDESK_API_RESERVED_CONCURRENCY);
    expect(reserved('Ingest')).toBeUndefined();
    const ingestSource = ofType('AWS::Lambda::EventSourceMapping').find(
      ([, r]) => (r.Properties?.FunctionName as { Ref: string }).Ref === fnId('Ingest'),
    )!;
    expect(ingestSource[1].Properties?.ScalingConfig).toEqual({ MaximumConcurrency: INGEST_MAX_CONCURRENCY });
  });

  it("answers the webhook route's whole burst within X's deadline, even from cold", () => {
    expect(webhookBurstSeconds(WEBHOOK_RESERVED_CONCURRENCY)).toBeLessThan(X_ANSWER_DEADLINE_SECONDS / 3);
  });

  it("keeps one brand's reservations to a small share of the account's pool", () => {
    const total = ofType('AWS::Lambda::Function').reduce((sum, [, r]) => sum + Number(r.Properties?.ReservedConcurrentExecutions ?? 0), 0);
    // 20 + 10 + notify 5 + reply 2 + reconcile 1: at most 23 brands in an account at the default quota.
    expect(total).toBe(38);
    expect(Math.floor((ACCOUNT_CONCURRENCY.quota - ACCOUNT_CONCURRENCY.unreservedMinimum) / total)).toBe(23);
  });
});
