import { describe, expect, it } from 'vitest';
import { pascalCase, syncOutputNames } from '../../shared/contracts/outputNames.ts';

describe('Function: syncOutputNames', () => {
  it('prefixes the output names with the sync name in PascalCase', () => {
    // Act
    const names = syncOutputNames('crm-customers');
    // Assess
    expect(names).toEqual({
      queueUrl: 'CrmCustomersQueueUrl',
      dlqUrl: 'CrmCustomersDlqUrl',
      extractFunctionName: 'CrmCustomersExtractFunctionName',
      writeFunctionName: 'CrmCustomersWriteFunctionName',
      scheduleName: 'CrmCustomersScheduleName',
      verifyFunctionName: 'CrmCustomersVerifyFunctionName',
    });
  });

  it('yields alphanumeric names for every valid sync name', () => {
    // Assess
    for (const name of ['a', 'crm-2024-invoices', 'x-', 'a--b']) {
      expect(pascalCase(name)).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
    }
  });
});
