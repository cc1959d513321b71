import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../../local/LocalStack.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { DEALS_SYNC, dealLinesSync, startDealLinesStack } from '../../helpers/dealLines.ts';

/** Deals and their line items in HubSpot: line items are objects of their own, associated to their deal. */
const config = validateConfig({
  connections: { hubspot: { type: 'hubspot' } },
  syncs: [DEALS_SYNC, dealLinesSync()],
});

describe('Associated children: HubSpot line items associated to their deal', () => {
  let stack: LocalStack;
  const dealOfLine = (lineTargetId: string) =>
    stack.hubspot.associations('line_items', lineTargetId, 'deals').map((a) => a.toId);
  const cycle = async (...syncs: string[]) => {
    for (const s of syncs) await stack.runExtract(s);
    await stack.drain(120_000);
  };

  beforeAll(async () => {
    stack = await startDealLinesStack(config);
  });
  afterAll(async () => stack?.stop());

  it('upserts each child and associates it with its parent, recording the association in the link', async () => {
    await cycle('deal-lines', 'deals'); // children first: they wait for their deals
    const deals = await stack.links.batchGet('deals', ['1', '2', '3', '4', '5']);
    for (let j = 1; j <= 15; j++) {
      const link = (await stack.links.get('deal-lines', String(j)))!;
      const deal = deals.get(String(1 + (j % 5)))!;
      expect(link, `line ${j}`).toMatchObject({ status: 'ok', associatedWith: deal.targetId });
      expect(dealOfLine(link.targetId!), `line ${j}`).toEqual([deal.targetId]);
    }
    expect(stack.hubspot.records('line_items')).toHaveLength(15);
  });

  it('keeps one association when a child is written again', async () => {
    await stack.dwh`update src.deal_lines set quantity = 99, loaded_at = now() where id = 7`;
    await cycle('deal-lines');
    const link = (await stack.links.get('deal-lines', '7'))!;
    expect(stack.hubspot.findRecords('line_items', 'dwh_line_id', '7')[0]!.properties.quantity).toBe('99');
    expect(dealOfLine(link.targetId!)).toHaveLength(1);
  });

  it('moves a child whose parent changed: associated with the new parent, no longer with the former', async () => {
    // Arrange: line 8 belongs to deal 4; move it to deal 2 in the source
    const deals = await stack.links.batchGet('deals', ['2', '4']);
    await stack.dwh`update src.deal_lines set deal_id = 2, loaded_at = now() where id = 8`;
    // Act
    await cycle('deal-lines');
    // Assess
    const link = (await stack.links.get('deal-lines', '8'))!;
    expect(link).toMatchObject({ status: 'ok', associatedWith: deals.get('2')!.targetId });
    expect(dealOfLine(link.targetId!)).toEqual([deals.get('2')!.targetId]);
    // the other lines of deal 4 keep theirs
    const sibling = (await stack.links.get('deal-lines', '3'))!;
    expect(dealOfLine(sibling.targetId!)).toEqual([deals.get('4')!.targetId]);
  });
});
