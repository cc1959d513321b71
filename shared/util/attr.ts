import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Tiny AttributeValue builders and readers; explicit types keep big numbers (versions) exact. */
export const S = (v: string): AttributeValue => ({ S: v });
export const N = (v: number | string | bigint): AttributeValue => ({ N: String(v) });

export function str(item: Record<string, AttributeValue> | undefined, name: string): string | undefined {
  const v = item?.[name];
  return v && 'S' in v ? v.S : undefined;
}
export function num(item: Record<string, AttributeValue> | undefined, name: string): number | undefined {
  const v = item?.[name];
  return v && 'N' in v && v.N !== undefined ? Number(v.N) : undefined;
}
/** A number attribute as its exact decimal text (versions can exceed 2^53). */
export function numText(item: Record<string, AttributeValue> | undefined, name: string): string | undefined {
  const v = item?.[name];
  return v && 'N' in v ? v.N : undefined;
}

export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}
