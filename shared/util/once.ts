/** Memoises an async factory: one container, one set of clients. A failed attempt is retried next time. */
export function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
