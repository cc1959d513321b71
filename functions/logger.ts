import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** One structured logger per container; level and service name come from POWERTOOLS_* variables set by the stack. */
export const logger = new Logger({ serviceName: 'writeback' });

/**
 * X-Ray tracing of each invocation (the stack turns active tracing on); locally, without the
 * X-Ray daemon, Powertools disables it (POWERTOOLS_TRACE_ENABLED / outside Lambda).
 */
export const tracer = new Tracer({ serviceName: 'writeback' });
