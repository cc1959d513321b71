import type { Connector, UpsertRecord } from '../../shared/connectors/Connector.ts';

/** Observes what reaches a connector: every upsert call and the keys it carried. */
export class ConnectorSpy {
  public calls = 0;
  public records: string[] = [];

  public wrap(inner: Connector): Connector {
    return {
      type: inner.type,
      capabilities: inner.capabilities,
      upsertBatch: async (object: string, records: readonly UpsertRecord[]) => {
        this.calls++;
        this.records.push(...records.map((r) => r.key));
        return inner.upsertBatch(object, records);
      },
      lookup: (object, id) => inner.lookup(object, id),
      list: (object) => inner.list(object),
      close: () => inner.close(),
      // Optional capabilities pass through untouched: the spy must not change what a connector can do.
      ...(inner.associate ? { associate: inner.associate.bind(inner) } : {}),
      ...(inner.archive ? { archive: inner.archive.bind(inner) } : {}),
      ...(inner.get ? { get: inner.get.bind(inner) } : {}),
    };
  }

  public reset(): void {
    this.calls = 0;
    this.records = [];
  }
}
