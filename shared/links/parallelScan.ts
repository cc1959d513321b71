import {
  type DynamoDBClient,
  paginateScan,
  type ScanCommandInput,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';

/**
 * The pages of a Scan split into `segments` parallel segments, each followed with the SDK's
 * paginator, yielded as they arrive (in no particular order). One segment (or fewer) is a plain
 * Scan without Segment/TotalSegments. `pageSize` sets the Scan's Limit (items evaluated per page);
 * without it a page is up to 1 MB. The segments stop at their next page once the consumer stops
 * reading; the first error of any segment is thrown to the consumer.
 */
export async function* parallelScan(
  ddb: DynamoDBClient,
  input: Omit<ScanCommandInput, 'Segment' | 'TotalSegments' | 'ExclusiveStartKey' | 'Limit'>,
  opts: { segments: number; pageSize?: number | undefined },
): AsyncGenerator<ScanCommandOutput> {
  const segments = Math.max(1, opts.segments);
  const pages: ScanCommandOutput[] = [];
  let running = segments;
  let error: { readonly cause: unknown } | undefined;
  // Set by the segments: read through a call, which the compiler does not narrow.
  const failure = (): { readonly cause: unknown } | undefined => error;
  let stopped = false;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const segment = async (n: number): Promise<void> => {
    try {
      const paginator = paginateScan(
        { client: ddb, ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}) },
        // The paginator writes ExclusiveStartKey into its input: one object per segment.
        { ...input, ...(segments > 1 ? { Segment: n, TotalSegments: segments } : {}) },
      );
      for await (const page of paginator) {
        if (stopped) return;
        pages.push(page);
        signal();
      }
    } catch (err) {
      error ??= { cause: err };
    } finally {
      running--;
      signal();
    }
  };
  const all = Array.from({ length: segments }, (_, n) => segment(n));
  try {
    for (;;) {
      const failed = failure();
      if (failed) throw failed.cause;
      const page = pages.shift();
      if (page) {
        yield page;
        continue;
      }
      if (running === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stopped = true;
  }
  await Promise.all(all);
  const failed = failure();
  if (failed) throw failed.cause;
}
