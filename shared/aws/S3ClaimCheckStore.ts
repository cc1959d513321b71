import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ClaimCheckLocation, ClaimCheckStore } from '../queue/ClaimCheck.ts';

/**
 * The claim-check store on S3 (and on the local emulator, which serves S3 on its SQS endpoint).
 * Objects expire through the bucket's lifecycle rule; the writer also deletes each one once its
 * message is settled (best effort).
 */
export class S3ClaimCheckStore implements ClaimCheckStore {
  private readonly s3: S3Client;
  private readonly bucket: string;

  public constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  public async put(objectKey: string, body: string): Promise<ClaimCheckLocation> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: body,
        ContentType: 'application/json; charset=utf-8',
      }),
    );
    return { bucket: this.bucket, key: objectKey };
  }

  public async get(location: ClaimCheckLocation): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      return (await res.Body?.transformToString('utf-8')) ?? '';
    } catch (err) {
      // With s3:ListBucket on the prefix, S3 answers a missing key with 404 NoSuchKey (without it: 403).
      const name = (err as { name?: string }).name;
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return undefined;
      throw err;
    }
  }

  public async delete(location: ClaimCheckLocation): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
  }
}
