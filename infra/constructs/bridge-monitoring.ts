// What ops see: an encrypted SNS topic mailing the brand's alarm address, the alarms that say a customer may be
// waiting (a parked message, a failing function, X unable to reach the webhook, a reply X refused, a silent
// channel), and one dashboard per brand with the flow end to end.
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRIC_NAMESPACE, METRIC_SERVICE, type MetricName } from '../../shared/metric-names';
import type { FunctionName } from './bridge-function';
import { WEBHOOK_SERVER_ERRORS_METRIC } from './bridge-http-api';

/** What the monitoring watches. */
export type BridgeMonitoringProps = {
  brand: string;
  alarmEmail: string;
  silentChannelHours: number;
  functions: Record<FunctionName, lambda.Function>;
  /** Dead-letter queues by label. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** Work queues by label, for the backlog widgets. */
  workQueues: Record<string, sqs.IQueue>;
  api: apigw.HttpApi;
};

const FIVE_MINUTES = Duration.minutes(5);

/** The alarm topic, the alarms and the dashboard of one brand. */
export class BridgeMonitoring extends Construct {
  /** Where every alarm goes. */
  readonly topic: sns.Topic;
  /** Every alarm, all sending to the topic. */
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The brand's dashboard. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BridgeMonitoringProps) {
    super(scope, id);
    const { brand } = props;

    // A customer-managed key: the AWS-managed SNS key's policy cannot be changed, so CloudWatch could not publish
    // alarms to a topic encrypted with it.
    const key = new kms.Key(this, 'TopicKey', {
      description: `Support Bridge (${brand}): encrypts the alarm topic`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Support Bridge ${brand} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const notify = new SnsAction(this.topic);

    type AlarmOptions = cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric };
    const alarm = (alarmId: string, description: string, options: AlarmOptions) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: `[${brand}] ${description}`,
        ...options,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    const custom = (metricName: MetricName | typeof WEBHOOK_SERVER_ERRORS_METRIC, period = FIVE_MINUTES) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        // Powertools emits every metric with the service and brand dimensions; the metric filter only with brand.
        dimensionsMap:
          metricName === WEBHOOK_SERVER_ERRORS_METRIC ? { brand } : { brand, service: METRIC_SERVICE },
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    // "Any at all": each of these is one customer waiting, so one occurrence in five minutes is worth a mail.
    const anyOccurrence = {
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };

    for (const [label, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(`Dlq-${label}`, `Messages are waiting in the ${label} dead-letter queue: inspect them, then redrive.`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        ...anyOccurrence,
      });
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`Errors-${name}`, `The ${name} function is failing (errors or timeouts).`, {
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
        ...anyOccurrence,
      });
    }
    alarm('WebhookServerErrors', 'X got a 5xx from the webhook; X marks a webhook invalid and stops delivering.', {
      metric: custom(WEBHOOK_SERVER_ERRORS_METRIC),
      ...anyOccurrence,
    });
    alarm('RepliesFailed', 'X refused a reply for good; the helpdesk got ticket.reply_failed with the reason.', {
      metric: custom(METRIC_NAMES.RepliesFailed),
      ...anyOccurrence,
    });
    alarm('NotifyDeadLettered', 'A ticket event could not be delivered to the helpdesk after a day of retries.', {
      metric: custom(METRIC_NAMES.DeliveryFailed),
      ...anyOccurrence,
    });
    alarm(
      'XReadBudgetSpent',
      "The day's X read budget (X_READ_BUDGET_PER_DAY) is spent: authors X did not name are ticketed unresolved " +
        'and nothing is read on X until midnight UTC. Raise the budget or look for what is reading.',
      { metric: custom(METRIC_NAMES.XReadsRefused), ...anyOccurrence },
    );
    alarm(
      'XSpendNearCap',
      "This month's X spend caused by replies reached 80 % of X_MONTHLY_SPEND_CAP_USD: past the cap, replies fail " +
        'with spend_cap until the next month. Raise the cap in the brand file, or look for what is replying.',
      { metric: custom(METRIC_NAMES.XSpendNearCap), ...anyOccurrence },
    );
    alarm(
      'ChannelDown',
      'The X channel is down (the brand account revoked the app, X refuses its token, or the app\'s X credits or ' +
        'usage cap are spent): nothing arrives and no reply can be posted. The helpdesk got channel.health_changed ' +
        '(down) with the reason and what to do; the reconcile and ingest logs say the same.',
      { metric: custom(METRIC_NAMES.ChannelDown), ...anyOccurrence },
    );
    // Reconciliation runs every few minutes: two five-minute periods out of three with missed deliveries is a webhook
    // that has stopped, not one late delivery.
    alarm(
      'WebhookMissingMentions',
      'Reconciliation keeps finding mentions X\'s webhook should have delivered: they are ticketed late. Run ' +
        '`npm run x -- status` and `revalidate` for the webhook, and `replay` for the hours it missed.',
      {
        metric: custom(METRIC_NAMES.ReconcileWebhookMissed),
        threshold: 0,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );
    alarm(
      'ReconcileStopping',
      'Reconciliation runs keep stopping early (X failing, rate limits, the read budget): what the webhook misses is ' +
        'not read. The reconcile function\'s log says why.',
      {
        metric: custom(METRIC_NAMES.ReconcileStopped),
        threshold: 0,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );
    // "No event for N hours": one-hour sums that are all below 1 (or missing, as a silent channel emits nothing)
    // for N consecutive hours. Hourly periods keep N up to 168 within CloudWatch's 7-day evaluation range.
    const silence = `No X webhook event for ${props.silentChannelHours} h: check the webhook registration and CRC.`;
    alarm('ChannelSilent', silence, {
      metric: custom(METRIC_NAMES.WebhookEventsIn, Duration.hours(1)),
      threshold: 1,
      evaluationPeriods: props.silentChannelHours,
      datapointsToAlarm: props.silentChannelHours,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `SupportBridge-${brand}`,
      defaultInterval: Duration.days(1),
    });
    const graph = (title: string, metrics: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left: metrics, width, height: 6 });
    // Labels only on the dashboard: a labelled metric would turn an alarm into a metric-math alarm.
    const counts = (...names: MetricName[]) => names.map((name) => custom(name).with({ label: name }));
    const perFunction = (pick: (fn: lambda.Function) => cloudwatch.Metric) =>
      Object.entries(props.functions).map(([name, fn]) => pick(fn).with({ label: name }));

    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      graph('X events in / ignored', counts(METRIC_NAMES.WebhookEventsIn, METRIC_NAMES.WebhookEventsIgnored, METRIC_NAMES.ReplayJobsEnded)),
      graph(
        'Tickets',
        counts(
          METRIC_NAMES.TicketsCreated,
          METRIC_NAMES.MessagesAdded,
          METRIC_NAMES.TicketsReopened,
          METRIC_NAMES.DuplicatesDropped,
          METRIC_NAMES.MessagesEdited,
        ),
      ),
      graph('Replies', counts(METRIC_NAMES.RepliesPosted, METRIC_NAMES.RepliesFailed, METRIC_NAMES.ReplyRetries)),
    );
    this.dashboard.addWidgets(
      graph(
        'Threads: outbound, echoes, deletes',
        counts(
          METRIC_NAMES.OutboundRecorded,
          METRIC_NAMES.ReplyEchoesMatched,
          METRIC_NAMES.MessagesRedacted,
          METRIC_NAMES.DeletesBeforeIngest,
          METRIC_NAMES.InboundIgnored,
        ),
      ),
      graph('Refused webhook signatures', counts(METRIC_NAMES.WebhookSignatureRejected)),
      graph('X reads: by kind, refused by the budget, not found, look-ups to retry', [
        ...(['user', 'post'] as const).map(
          (kind) =>
            new cloudwatch.Metric({
              namespace: METRIC_NAMESPACE,
              metricName: METRIC_NAMES.XReads,
              dimensionsMap: { brand, service: METRIC_SERVICE, kind },
              statistic: cloudwatch.Stats.SUM,
              period: FIVE_MINUTES,
              label: `${kind} reads`,
            }),
        ),
        ...counts(METRIC_NAMES.XReadsRefused, METRIC_NAMES.XUsersNotFound, METRIC_NAMES.XLookupsFailed),
      ]),
      graph('X reads: estimated cost (USD)', counts(METRIC_NAMES.XReadCostUsd)),
      graph('Replies: estimated X cost (USD), replies at 80 % of the monthly cap', counts(METRIC_NAMES.ReplyCostUsd, METRIC_NAMES.XSpendNearCap)),
      // Items the reconciler found that the webhook had not delivered: steady growth means the webhook is losing items.
      graph(
        'Reconciliation: found, missed by the webhook, stopped runs',
        counts(
          METRIC_NAMES.ReconcileItemsFound,
          METRIC_NAMES.ReconcileItemsMissed,
          METRIC_NAMES.ReconcileWebhookMissed,
          METRIC_NAMES.ReconcileStopped,
          METRIC_NAMES.ListeningItemsQueued,
        ),
      ),
      graph(
        'Notify: records not yet deliverable',
        counts(METRIC_NAMES.NotifyRecordsFailed, METRIC_NAMES.NotifyRetryMalformed),
      ),
      // The same changes the helpdesk hears of as channel.health_changed.
      graph(
        'Channel health: down, degraded, app revoked',
        counts(METRIC_NAMES.ChannelDown, METRIC_NAMES.ChannelDegraded, METRIC_NAMES.AppRevocations),
      ),
      graph('XChat: messages decrypted, kept encrypted', counts(METRIC_NAMES.XChatOpened, METRIC_NAMES.XChatUnreadable)),
      // One line per rule of the brand's (its name is the `rule` dimension): drops, and tags or priorities given.
      graph('Brand rules: decisions by rule', [
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${METRIC_NAMESPACE},brand,rule,service} MetricName="${METRIC_NAMES.RuleMatches}" brand="${brand}"', 'Sum', 300)`,
          usingMetrics: {},
          label: METRIC_NAMES.RuleMatches,
          period: FIVE_MINUTES,
        }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Helpdesk deliveries',
        counts(METRIC_NAMES.EventsDelivered, METRIC_NAMES.DeliveriesRetried, METRIC_NAMES.DeliveryFailed),
      ),
      graph(
        'Dead-letter queue depths',
        Object.entries(props.deadLetterQueues).map(([label, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ label, statistic: cloudwatch.Stats.MAXIMUM }),
        ),
      ),
      graph(
        'Oldest message in work queues (s)',
        Object.entries(props.workQueues).map(([label, queue]) =>
          queue.metricApproximateAgeOfOldestMessage({ label, statistic: cloudwatch.Stats.MAXIMUM }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph('Function errors', perFunction((fn) => fn.metricErrors({ statistic: cloudwatch.Stats.SUM }))),
      graph(
        'Function duration p99 (ms)',
        perFunction((fn) => fn.metricDuration({ statistic: cloudwatch.Stats.p(99) })),
      ),
      graph('Function throttles', perFunction((fn) => fn.metricThrottles({ statistic: cloudwatch.Stats.SUM }))),
    );
    this.dashboard.addWidgets(
      graph('API 4xx / 5xx', [
        props.api.metricClientError({ label: '4xx' }),
        props.api.metricServerError({ label: '5xx' }),
        custom(WEBHOOK_SERVER_ERRORS_METRIC).with({ label: 'webhook 5xx' }),
      ]),
      graph('API latency (ms)', [
        props.api.metricLatency({ label: 'p50', statistic: cloudwatch.Stats.p(50) }),
        props.api.metricLatency({ label: 'p99', statistic: cloudwatch.Stats.p(99) }),
      ]),
      graph('API requests', [props.api.metricCount({ label: 'requests', statistic: cloudwatch.Stats.SUM })]),
    );

    new CfnOutput(scope, 'DashboardName', { value: this.dashboard.dashboardName, description: 'CloudWatch dashboard' });
    new CfnOutput(scope, 'AlarmTopicArn', { value: this.topic.topicArn, description: 'SNS topic of every alarm' });
  }
}
