import { TargetError } from '../../errors.ts';
import { type HttpResponse, type HttpResult, parseJson } from './HttpClient.ts';

export interface JsonAnswerOptions {
  /** Product name for messages: 'Xero'. */
  readonly vendor: string;
  /** The vendor's code for an answer it cannot read. */
  readonly badResponseCode: string;
  /** The vendor's verdict on an answer that is neither 200 nor 404. */
  readonly classify: (res: HttpResponse, route: string) => TargetError;
}

/**
 * The JSON body of a read's answer, or undefined when the target has no such record (404).
 * Anything else throws: a failure before an answer as it is, another status as the vendor
 * classifies it, and a 200 that is not JSON as retryable, since reading again changes nothing
 * in the target.
 */
export function readJsonAnswer<T>(res: HttpResult, route: string, opts: JsonAnswerOptions): T | undefined {
  if (!res.ok) throw res.error;
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw opts.classify(res, route);
  const body = parseJson<T>(res.text);
  if (body === undefined) {
    throw new TargetError(
      opts.badResponseCode,
      `${opts.vendor} answered ${route} with a body that is not JSON`,
      {
        disposition: 'retryable',
        httpStatus: 200,
      },
    );
  }
  return body;
}
