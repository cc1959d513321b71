/**
 * Runs the DynamoDB and SQS emulators in a process of their own, so that they use the second
 * core instead of competing with the handlers for one event loop. Prints one JSON line with the
 * endpoints when ready; exits when its parent closes stdin or on SIGTERM.
 */
import { startEmulatorsInProcess } from './LocalEmulators.ts';

const emulators = await startEmulatorsInProcess();
process.stdout.write(
  `${JSON.stringify({
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    s3Endpoint: emulators.s3Endpoint,
  })}\n`,
);
const shutdown = (): void => {
  void emulators.stop().finally(() => process.exit(0));
};
process.stdin.on('end', shutdown);
process.stdin.resume();
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
