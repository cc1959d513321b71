import { vi } from 'vitest';

/** One record of CloudWatch's embedded metric format, as Powertools Metrics prints it to stdout. */
export type Emf = Record<string, unknown> & {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit?: string }[];
    }[];
  };
};

/** One metric of an EMF record, as CloudWatch files it: namespace, name, dimensions, value. */
export interface EmfMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: unknown;
}

/** Every EMF record written to stdout while `fn` runs (the output is swallowed). */
export async function captureEmf(fn: () => unknown): Promise<Emf[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);
}

/** Metric name → value of one EMF record. */
export function emfValues(emf: Emf): Record<string, unknown> {
  return Object.fromEntries(emf._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, emf[m.Name]]));
}

/** Every metric of the records, with the dimension values its record carries. */
export function emfMetrics(records: readonly Emf[]): EmfMetric[] {
  return records.flatMap((emf) =>
    emf._aws.CloudWatchMetrics.flatMap((directive) => {
      const dimensions = Object.fromEntries(
        [...new Set(directive.Dimensions.flat())].map((d) => [d, String(emf[d])]),
      );
      return directive.Metrics.map((m) => ({
        namespace: directive.Namespace,
        name: m.Name,
        dimensions,
        value: emf[m.Name],
      }));
    }),
  );
}
