import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config/validateConfig.ts';
import { StackNotFoundError } from '../../shared/ops/errors.ts';
import { resourcesFromOutputs } from '../../shared/ops/stackResources.ts';

const config = validateConfig({
  connections: { hubspot: { type: 'hubspot' } },
  syncs: [
    {
      name: 'crm-customers',
      source: { table: 'crm.customers', key: 'id', cursor: 'updated_at' },
      target: { connection: 'hubspot', object: 'contacts', externalId: 'dwh_id' },
      map: (row: Record<string, unknown>) => row,
    },
  ],
});

describe('Function: resourcesFromOutputs', () => {
  it('reads the tables and each sync’s queues and extract function from the stack outputs', () => {
    // Prepare
    const outputs = {
      StateTableName: 'wb-state',
      LinksTableName: 'wb-links',
      CrmCustomersQueueUrl: 'https://sqs/q',
      CrmCustomersDlqUrl: 'https://sqs/dlq',
      CrmCustomersExtractFunctionName: 'wb-extract',
    };
    // Act
    const res = resourcesFromOutputs('Writeback', outputs, config.syncs);
    // Assess
    expect(res).toEqual({
      stateTable: 'wb-state',
      linksTable: 'wb-links',
      syncs: {
        'crm-customers': {
          queueUrl: 'https://sqs/q',
          dlqUrl: 'https://sqs/dlq',
          extractFunction: 'wb-extract',
        },
      },
    });
  });

  it("reads a sync's verify function when the stack has one (only syncs with verify do)", () => {
    // Prepare
    const outputs = {
      StateTableName: 'wb-state',
      LinksTableName: 'wb-links',
      CrmCustomersQueueUrl: 'https://sqs/q',
      CrmCustomersDlqUrl: 'https://sqs/dlq',
      CrmCustomersExtractFunctionName: 'wb-extract',
      CrmCustomersVerifyFunctionName: 'wb-verify',
    };
    // Act
    const res = resourcesFromOutputs('Writeback', outputs, config.syncs);
    // Assess
    expect(res.syncs['crm-customers']?.verifyFunction).toBe('wb-verify');
  });

  it('names every missing output at once and says how to fix it', () => {
    // Act
    const act = () => resourcesFromOutputs('Other', { StateTableName: 's' }, config.syncs);
    // Assess
    expect(act).toThrow(StackNotFoundError);
    expect(act).toThrow(
      /LinksTableName, CrmCustomersQueueUrl, CrmCustomersDlqUrl, CrmCustomersExtractFunctionName.*cdk deploy/,
    );
  });
});
