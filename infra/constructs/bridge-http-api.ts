// The brand's HTTP API: X's webhook and the helpdesk's ticket endpoints (CONTRACT.md §2), on one default stage with
// JSON access logs and throttling. Authentication is the functions' job, by contract: X signs its calls with HMAC
// (it cannot send a token or SigV4), and the helpdesk sends a bearer token the helpdesk-api function checks.
import { CfnOutput, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../shared/metric-names';
import { WEBHOOK_ROUTE } from './limits';

/** The webhook's path, registered with X. */
export const WEBHOOK_PATH = '/x/webhook';

/**
 * Counted from the access logs, not emitted by a function: a 5xx the webhook function never saw (a crash at load,
 * a timeout, a throttle) is exactly the case X turns into "webhook invalid".
 */
export const WEBHOOK_SERVER_ERRORS_METRIC = 'WebhookServerErrors';

/** What the API routes to, and how hard it may be called. */
export type BridgeHttpApiProps = {
  brand: string;
  xWebhook: lambda.IFunction;
  helpdeskApi: lambda.IFunction;
  /** Each helpdesk route's limit (the brand's `apiThrottling`); X's webhook route has its own (WEBHOOK_ROUTE). */
  throttling: { rateLimit: number; burstLimit: number };
  logRetention: logs.RetentionDays;
};

/** The HTTP API, its `$default` stage and the access log group. */
export class BridgeHttpApi extends Construct {
  /** The API. */
  readonly api: apigw.HttpApi;
  /** The `$default` stage (its URL is the API's base URL). */
  readonly stage: apigw.HttpStage;
  /** The stage's access logs, one JSON object per request. */
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BridgeHttpApiProps) {
    super(scope, id);
    this.api = new apigw.HttpApi(this, 'Api', {
      description: `Support Bridge (${props.brand}): X webhook and helpdesk API`,
      // The stage is built below with access logs and throttling, which the implicit one cannot have.
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    // Fields chosen to debug a delivery without logging anything sensitive: no headers (the bearer token and X's
    // signature live there), no query string, no body. `status` is a number so metric filters can compare it;
    // `brand` is literal text so the metric filter can use it as a dimension.
    const format = {
      requestId: '$context.requestId',
      requestTime: '$context.requestTime',
      ip: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      routeKey: '$context.routeKey',
      path: '$context.path',
      status: '$context.status',
      responseLength: '$context.responseLength',
      responseLatency: '$context.responseLatency',
      integrationStatus: '$context.integrationStatus',
      integrationLatency: '$context.integrationLatency',
      integrationError: '$context.integrationErrorMessage',
      error: '$context.error.message',
      brand: props.brand,
    };
    const formatJson = JSON.stringify(format).replace('"$context.status"', '$context.status');

    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttling,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(formatJson),
      },
    });

    const webhook = new HttpLambdaIntegration('XWebhook', props.xWebhook);
    const helpdesk = new HttpLambdaIntegration('HelpdeskApi', props.helpdeskApi);
    const { GET, POST, PATCH } = apigw.HttpMethod;
    const routes: [string, apigw.HttpMethod[], HttpLambdaIntegration][] = [
      [WEBHOOK_PATH, [GET, POST], webhook],
      ['/healthz', [GET], helpdesk],
      ['/tickets', [GET], helpdesk],
      ['/tickets/{ticketId}', [GET, PATCH], helpdesk],
      ['/tickets/{ticketId}/attachments/{attachmentId}', [GET], helpdesk],
      ['/tickets/{ticketId}/replies', [POST], helpdesk],
    ];
    for (const [path, methods, integration] of routes) this.api.addRoutes({ path, methods, integration });

    // HTTP API throttles each route with its own bucket: the stage default (the brand's apiThrottling) holds for the
    // helpdesk's routes, and X's webhook routes get WEBHOOK_ROUTE, so a helpdesk calling at its limit takes nothing
    // from X's deliveries (and their functions have separate reserved concurrency).
    const webhookRoutes = Object.fromEntries(
      ['GET', 'POST'].map((method) => [
        `${method} ${WEBHOOK_PATH}`,
        { ThrottlingRateLimit: WEBHOOK_ROUTE.rateLimit, ThrottlingBurstLimit: WEBHOOK_ROUTE.burstLimit },
      ]),
    );
    const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
    cfnStage.routeSettings = webhookRoutes;
    // The route settings name routes by key: the routes must exist before the stage refers to them.
    for (const route of this.api.node.children) {
      if (route instanceof apigw.HttpRoute && route.node.id.includes('x--webhook')) cfnStage.node.addDependency(route);
    }

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authorization is in the functions, as the contract requires: X authenticates its webhook calls with an ' +
        'HMAC signature of the raw body (verified before parsing; X cannot send a token or SigV4), the helpdesk ' +
        'sends a bearer token checked in constant time by helpdesk-api, and /healthz is public by design.',
    });

    this.accessLogs.addMetricFilter('WebhookServerErrors', {
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.any(
          logs.FilterPattern.stringValue('$.routeKey', '=', `GET ${WEBHOOK_PATH}`),
          logs.FilterPattern.stringValue('$.routeKey', '=', `POST ${WEBHOOK_PATH}`),
        ),
        logs.FilterPattern.numberValue('$.status', '>=', 500),
      ),
      metricNamespace: METRIC_NAMESPACE,
      metricName: WEBHOOK_SERVER_ERRORS_METRIC,
      metricValue: '1',
      dimensions: { brand: '$.brand' },
    });

    new CfnOutput(scope, 'ApiUrl', { value: this.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(scope, 'WebhookUrl', {
      value: this.webhookUrl,
      description: 'Register this URL as the X webhook (CRC answers on GET)',
    });
  }

  /** The API's base URL, ending without a slash. */
  get url(): string {
    return this.api.apiEndpoint;
  }

  /** The URL to register with X. */
  get webhookUrl(): string {
    return `${this.api.apiEndpoint}${WEBHOOK_PATH}`;
  }
}
