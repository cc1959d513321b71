import { describe, expect, it } from 'vitest';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, resource } from './templateQueries.ts';

// Prepare: a child listed before its parent, sharing its schedule; another child on its own schedule.
const config = testConfig([
  syncInput('invoices', { parent: { sync: 'customers', key: 'customer_id' } }),
  syncInput('customers'),
  syncInput('notes', { schedule: 'rate(1 hour)', parent: { sync: 'customers', key: 'customer_id' } }),
]);
const { template } = buildStack(config);
const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((s) =>
  String(s.Properties.Description),
);

describe('Parents before children on AWS', () => {
  it('gives a child sharing its parent schedule no schedule of its own', () => {
    expect(schedules.some((d) => d.startsWith('Writeback invoices:'))).toBe(false);
    expect(schedules.some((d) => d.startsWith('Writeback customers:'))).toBe(true);
    expect(schedules.some((d) => d.startsWith('Writeback notes:'))).toBe(true);
  });

  it('creates a Scheduler role only for a sync something schedules', () => {
    const roles = Object.keys(template.findResources('AWS::IAM::Role'));
    expect(roles.some((id) => id.startsWith('SyncInvoicesScheduleRole'))).toBe(false);
    expect(roles.some((id) => id.startsWith('SyncCustomersScheduleRole'))).toBe(true);
    expect(roles.some((id) => id.startsWith('SyncNotesScheduleRole'))).toBe(true);
  });

  it("has the parent's extract function start the child's when it is done", () => {
    const fn = resource(template, 'AWS::Lambda::Function', 'SyncCustomersExtractFunction').Properties as {
      Environment: { Variables: Record<string, unknown> };
    };
    const env = fn.Environment.Variables;
    const child = logicalId(template, 'AWS::Lambda::Function', 'SyncInvoicesExtractFunction');
    expect(JSON.stringify(env.WB_THEN_INVOKE)).toContain(child);
    expect(JSON.stringify(env.WB_THEN_INVOKE)).not.toContain('SyncNotes');
  });

  it("lets only the parent's role invoke the child's extract function", () => {
    const child = logicalId(template, 'AWS::Lambda::Function', 'SyncInvoicesExtractFunction');
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p) =>
        JSON.stringify(p.Properties.FunctionName).includes(child) &&
        JSON.stringify(p.Properties.Principal).includes('SyncCustomersExtractRole'),
    );
    expect(permissions).toHaveLength(1);
  });
});
