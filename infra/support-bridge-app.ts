// Builds the CDK app: one SupportBridge-<brand> stack per infra/brands/<brand>.json (or only `-c brand=<brand>`),
// checked by the cdk-nag AwsSolutions rules at synth. infra/app.ts runs it for the CLI; tests call it directly.
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadBrandConfigs } from './brand-config';
import { stackName, SupportBridgeStack } from './stack';

/** How to build the app; everything defaults to what `cdk synth` uses. */
export type CreateAppOptions = AppProps & {
  /** Only this brand (default: the `brand` context value, else every brand file). */
  only?: string;
  /** Where brand files live (default infra/brands). */
  brandsDir?: string;
  /** Where function entries live (default functions/). */
  functionsDir?: string;
};

/** The app and its stacks, one per brand. */
export function createApp(options: CreateAppOptions = {}): { app: App; stacks: SupportBridgeStack[] } {
  const { only, brandsDir, functionsDir, ...appProps } = options;
  const app = new App(appProps);
  const fromContext: unknown = app.node.tryGetContext('brand');
  const brand = only ?? (typeof fromContext === 'string' && fromContext !== '' ? fromContext : undefined);
  const stacks = loadBrandConfigs({ dir: brandsDir, only: brand }).map(
    (config) =>
      new SupportBridgeStack(app, stackName(config.brand), {
        brand: config,
        // Without an account in the brand file the stack stays account-agnostic (deploys where the credentials point).
        env: { account: config.account, region: config.region },
        functionsDir,
      }),
  );
  // cdk-nag 3.x is a policy validation plugin: synth fails while any finding is neither fixed nor acknowledged.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stacks };
}
