import { Annotations, Aspects, type IAspect, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IConstruct } from 'constructs';

/** Id of the synth warning for a stack whose alarms notify nobody. */
export const NO_ALARM_ACTION_WARNING = 'writeback:alarmsWithoutAction';

/**
 * Every alarm of a scope notifies `action` on ALARM and on OK: a new alarm gets it by default,
 * without each place that creates one remembering to. (CDK visits each construct once per aspect.)
 */
class DefaultAlarmAction implements IAspect {
  private readonly action: cloudwatch.IAlarmAction;

  public constructor(action: cloudwatch.IAlarmAction) {
    this.action = action;
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.AlarmBase)) return;
    node.addAlarmAction(this.action);
    node.addOkAction(this.action);
  }
}

/**
 * Wires the stack's alarms to the alarm topic (`alarmTopicArn` or `alarmEmail`). Without one, the
 * alarms still change state on the console but tell no one, and `cdk synth` says so as a warning.
 */
export function applyAlarmAction(stack: Stack, action: cloudwatch.IAlarmAction | undefined): void {
  if (action) {
    Aspects.of(stack).add(new DefaultAlarmAction(action));
    return;
  }
  Annotations.of(stack).addWarningV2(
    NO_ALARM_ACTION_WARNING,
    'No alarm topic: the alarms notify nobody. Deploy with -c alarmEmail=<address> (a new encrypted topic) or -c alarmTopicArn=<arn> (an existing topic); see docs/deploy.md.',
  );
}
