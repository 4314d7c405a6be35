// The brand's stack warns ops at 80 % of X_MONTHLY_SPEND_CAP_USD: an alarm on the reply worker's XSpendNearCap, sent
// to the alarm topic like the others, and the replies' estimated X cost on the dashboard.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, METRIC_NAMESPACE } from '../../shared/metric-names';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '../../infra/stack';
import { createApp } from '../../infra/support-bridge-app';

const CDK_JSON = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

describe('the monthly X spend cap in the stack', () => {
  it('alarms on the first reply counted at 80 % of the cap, and graphs what replies cost', () => {
    const { stacks } = createApp({
      functionsDir: FUNCTIONS_DIR,
      outdir: mkdtempSync(join(tmpdir(), 'sb-cdk-out-')),
      only: 'example',
      context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [] },
    });
    const template = Template.fromStack(stacks[0]!);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Record<string, unknown>);
    expect(alarms.find((a) => a.MetricName === METRIC_NAMES.XSpendNearCap)).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: expect.stringContaining('80 %'),
    });
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toContain(METRIC_NAMES.ReplyCostUsd);
  });
});
