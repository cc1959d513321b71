/** Each item of an async iterable passed through `fn`, lazily (for streaming with COPY). */
export async function* mapAsync<T, U>(source: AsyncIterable<T>, fn: (t: T) => U): AsyncIterable<U> {
  for await (const item of source) yield fn(item);
}
