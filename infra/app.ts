import { resolve } from 'node:path';
import { App, Tags, Validations } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../shared/config/loadConfig.ts';
import { readStackContext } from './readStackContext.ts';
import { DEFAULT_ENTRIES, WritebackStack } from './WritebackStack.ts';

/**
 * The CDK app (`cdk.json`: `node infra/app.ts`): the same writeback.config.ts the handlers and the
 * CLI read, one WritebackStack, and cdk-nag's AWS Solutions pack over the whole app, so
 * `cdk synth` fails on any finding that is not acknowledged with a reason.
 */
const app = new App();
const context = readStackContext((key) => app.node.tryGetContext(key));
const config = await loadConfigFile(context.configPath);

const stack = new WritebackStack(app, context.stackName, {
  config,
  // The functions carry the same config file as the stack (a bundle with another one would run
  // syncs the stack does not have).
  entries: { ...DEFAULT_ENTRIES, config: resolve(context.configPath) },
  description: 'Writeback: reverse ETL from a Postgres warehouse into SaaS apps',
  // Environment-agnostic: nothing is looked up at synth time, so one template fits any account
  // and region, and `cdk synth` works offline.
  ...(context.alarmTopicArn ? { alarmTopicArn: context.alarmTopicArn } : {}),
  ...(context.alarmEmail ? { alarmEmail: context.alarmEmail } : {}),
  ...(context.dwhNetwork ? { dwhNetwork: context.dwhNetwork } : {}),
  trialDatabase: context.trialDatabase,
  ...(context.vpcConnections ? { vpcConnections: context.vpcConnections } : {}),
  retainData: context.retainData,
  logRetention: context.logRetentionDays as logs.RetentionDays,
});
Tags.of(stack).add('app', 'writeback');

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
