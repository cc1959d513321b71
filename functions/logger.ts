import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per container; level and service name come from POWERTOOLS_* variables set by the stack. */
export const logger = new Logger({ serviceName: 'writeback' });
