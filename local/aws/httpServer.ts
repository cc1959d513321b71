import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a local AWS endpoint sees it: the whole body is read before the handler runs. */
export interface AwsHttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The request id this answer carries (x-amzn-RequestId), also for XML bodies that repeat it. */
  readonly requestId: string;
}

export interface AwsHttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export type AwsHttpHandler = (req: AwsHttpRequest) => Promise<AwsHttpResponse> | AwsHttpResponse;

/**
 * A loopback HTTP server on an ephemeral port for one emulated AWS service. Every answer carries
 * an `x-amzn-RequestId` (the SDK puts it in `$metadata.requestId`); a handler that throws answers
 * 500 with the error's message, so a bug here shows up in the SDK's error instead of a hang.
 */
export class LocalHttpServer {
  readonly #handler: AwsHttpHandler;
  readonly #maxBodyBytes: number;
  readonly #tooLarge: (bytes: number) => AwsHttpResponse;
  #server: Server | undefined;

  /**
   * `maxBodyBytes` caps what is buffered (a larger body is answered 413 by `tooLarge`), so that
   * a runaway client cannot make the emulator hold an unbounded body in memory.
   */
  public constructor(
    handler: AwsHttpHandler,
    opts: { maxBodyBytes?: number; tooLarge?: (bytes: number) => AwsHttpResponse } = {},
  ) {
    this.#handler = handler;
    this.#maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024 * 1024;
    this.#tooLarge = opts.tooLarge ?? (() => ({ status: 413, body: 'Request Entity Too Large' }));
  }

  /** Listens on 127.0.0.1 and resolves to the endpoint URL (`http://127.0.0.1:<port>`). */
  public async start(): Promise<string> {
    if (this.#server) return this.#endpoint(this.#server);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= this.#maxBodyBytes) chunks.push(chunk);
      });
      req.on('end', () => {
        const requestId = randomUUID();
        const answer = async (): Promise<AwsHttpResponse> => {
          if (bytes > this.#maxBodyBytes) return this.#tooLarge(bytes);
          return this.#handler({
            method: req.method ?? 'GET',
            url: new URL(req.url ?? '/', 'http://127.0.0.1'),
            headers: req.headers,
            body: Buffer.concat(chunks),
            requestId,
          });
        };
        answer()
          .catch(
            (err: unknown): AwsHttpResponse => ({
              status: 500,
              headers: { 'content-type': 'text/plain' },
              body: `local endpoint failed: ${(err as Error)?.message ?? String(err)}`,
            }),
          )
          .then((out) => {
            const body = out.body ?? '';
            res.writeHead(out.status, {
              'x-amzn-RequestId': requestId,
              'content-length': String(Buffer.byteLength(body)),
              ...out.headers,
            });
            res.end(body);
          });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    return this.#endpoint(server);
  }

  /** Closes the listener and any kept-alive connections (SDK clients keep sockets open). */
  public async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #endpoint(server: Server): string {
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
}

/**
 * The access key id a SigV4-signed request was signed with, from
 * `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, …`
 * (or the `X-Amz-Credential` query parameter of a presigned URL); undefined when unsigned.
 */
export function accessKeyIdOf(req: Pick<AwsHttpRequest, 'headers' | 'url'>): string | undefined {
  const auth = req.headers.authorization;
  const credential =
    (typeof auth === 'string' ? /Credential=([^,\s]+)/.exec(auth)?.[1] : undefined) ??
    req.url.searchParams.get('X-Amz-Credential') ??
    undefined;
  const akid = credential?.split('/')[0];
  return akid ? akid : undefined;
}

/** The one-line value of a header (Node joins repeated headers into an array for some names). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
