// The CDK entry point (cdk.json "app"): `npx cdk synth` for every brand, `-c brand=<brand>` for one.
import { BrandConfigError } from './brand-config';
import { createApp } from './support-bridge-app';

try {
  createApp().app.synth();
} catch (error) {
  // A bad brand file is an operator's typo: one line naming the file and field, not a stack trace.
  if (error instanceof BrandConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
