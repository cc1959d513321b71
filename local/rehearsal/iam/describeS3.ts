import {
  type AwsCall,
  type AwsRequest,
  type ConditionValue,
  type DescribeContext,
  partitionOf,
  UndescribableRequestError,
} from './awsCall.ts';

/**
 * The IAM calls of an S3 request (restXml, path-style `/<bucket>/<key>`: the gateway listens on
 * 127.0.0.1, and the SDK sends path-style requests to an IP endpoint). Object actions are on
 * `arn:aws:s3:::<bucket>/<key>` (the key percent-decoded), bucket actions on `arn:aws:s3:::<bucket>`.
 * A DeleteObjects (POST ?delete) is one s3:DeleteObject per key, as S3 authorizes it. The
 * conditions sent: s3:x-amz-server-side-encryption (and its KMS key id) where the header is sent,
 * s3:prefix/delimiter/max-keys of a listing.
 */
export function describeS3(request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  const segments = request.path.split('/').slice(1);
  const bucket = decodeURIComponent(segments[0] ?? '');
  const key = segments.slice(1).map(decodeURIComponent).join('/');
  const bucketArn = `arn:${partitionOf(ctx)}:s3:::${bucket}`;
  const q = request.query;
  const method = request.method.toUpperCase();
  const call = (
    operation: string,
    action: string,
    resource: string,
    conditions: Record<string, ConditionValue | undefined> = {},
  ): AwsCall => ({
    service: 's3',
    operation,
    action: `s3:${action}`,
    resource,
    conditions: compact({ 'aws:RequestedRegion': ctx.region, ...conditions }),
  });

  if (!bucket) {
    if (method === 'GET') return [call('ListBuckets', 'ListAllMyBuckets', '*')];
    throw new UndescribableRequestError(`S3 ${method} / is not an operation the rehearsal knows`);
  }

  if (!key) {
    if (method === 'GET' && (q.has('list-type') || onlyListParams(q))) {
      return [
        call(q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', 'ListBucket', bucketArn, {
          's3:prefix': q.get('prefix') ?? undefined,
          's3:delimiter': q.get('delimiter') ?? undefined,
          's3:max-keys': q.get('max-keys') ?? undefined,
        }),
      ];
    }
    if (method === 'GET' && q.has('versions'))
      return [call('ListObjectVersions', 'ListBucketVersions', bucketArn)];
    if (method === 'GET' && q.has('uploads'))
      return [call('ListMultipartUploads', 'ListBucketMultipartUploads', bucketArn)];
    if (method === 'HEAD') return [call('HeadBucket', 'ListBucket', bucketArn)];
    if (method === 'PUT' && [...q.keys()].length === 0)
      return [call('CreateBucket', 'CreateBucket', bucketArn)];
    if (method === 'DELETE' && [...q.keys()].length === 0)
      return [call('DeleteBucket', 'DeleteBucket', bucketArn)];
    if (method === 'POST' && q.has('delete')) {
      return deletedKeys(request.body).map((k) => call('DeleteObjects', 'DeleteObject', `${bucketArn}/${k}`));
    }
    // Bucket configuration (GET ?policy, ?location…): the action is the sub-resource's name.
    const sub = [...q.keys()][0];
    if (sub && method === 'GET')
      return [call(`GetBucket${capital(sub)}`, `GetBucket${capital(sub)}`, bucketArn)];
    throw new UndescribableRequestError(
      `S3 ${method} on a bucket with ?${[...q.keys()].join('&')} is not known`,
    );
  }

  const objectArn = `${bucketArn}/${key}`;
  const sse = {
    's3:x-amz-server-side-encryption': request.headers['x-amz-server-side-encryption'],
    's3:x-amz-server-side-encryption-aws-kms-key-id':
      request.headers['x-amz-server-side-encryption-aws-kms-key-id'],
  };
  switch (method) {
    case 'GET':
      if (q.has('tagging')) return [call('GetObjectTagging', 'GetObjectTagging', objectArn)];
      if (q.has('uploadId')) return [call('ListParts', 'ListMultipartUploadParts', objectArn)];
      return [call('GetObject', q.has('versionId') ? 'GetObjectVersion' : 'GetObject', objectArn)];
    case 'HEAD':
      return [call('HeadObject', 'GetObject', objectArn)];
    case 'PUT': {
      if (q.has('tagging')) return [call('PutObjectTagging', 'PutObjectTagging', objectArn)];
      const copySource = request.headers['x-amz-copy-source'];
      const put = call(
        q.has('partNumber') ? 'UploadPart' : copySource ? 'CopyObject' : 'PutObject',
        'PutObject',
        objectArn,
        {
          ...sse,
          's3:x-amz-copy-source': copySource,
          's3:x-amz-acl': request.headers['x-amz-acl'],
        },
      );
      if (!copySource) return [put];
      const source = decodeURIComponent(copySource.replace(/^\//, '').split('?')[0]!);
      return [put, call('CopyObject', 'GetObject', `arn:${partitionOf(ctx)}:s3:::${source}`)];
    }
    case 'POST':
      // CreateMultipartUpload (?uploads) and CompleteMultipartUpload (?uploadId) need s3:PutObject.
      return [
        call(
          q.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload',
          'PutObject',
          objectArn,
          sse,
        ),
      ];
    case 'DELETE':
      if (q.has('uploadId')) return [call('AbortMultipartUpload', 'AbortMultipartUpload', objectArn)];
      if (q.has('tagging')) return [call('DeleteObjectTagging', 'DeleteObjectTagging', objectArn)];
      return [call('DeleteObject', q.has('versionId') ? 'DeleteObjectVersion' : 'DeleteObject', objectArn)];
    default:
      throw new UndescribableRequestError(`S3 ${method} on an object is not known`);
  }
}

/** A GET on a bucket with no query, or only listing parameters, is ListObjects (v1). */
function onlyListParams(q: URLSearchParams): boolean {
  const listing = new Set(['prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type']);
  return [...q.keys()].every((k) => listing.has(k));
}

/** The keys of a DeleteObjects body: `<Delete><Object><Key>k</Key>…</Object>…</Delete>`. */
function deletedKeys(body: Buffer): string[] {
  const xml = body.toString('utf8');
  return [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#x?[0-9a-fA-F]+);/g, (entity, name: string) => {
    switch (name) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      case 'amp':
        return '&';
      default:
        return (
          String.fromCodePoint(
            name.startsWith('#x') ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10),
          ) || entity
        );
    }
  });
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function compact(conditions: Record<string, ConditionValue | undefined>): Record<string, ConditionValue> {
  const out: Record<string, ConditionValue> = {};
  for (const [k, v] of Object.entries(conditions)) if (v !== undefined) out[k] = v;
  return out;
}
