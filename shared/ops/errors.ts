import { WritebackError } from '../errors.ts';

/** The command was called wrongly (unknown sync, missing --key/--all, bad value): exit code 2. */
export class UsageError extends WritebackError {
  public constructor(message: string) {
    super('WB_USAGE', message);
    this.name = 'UsageError';
  }
}

/** A destructive command was not confirmed (no --yes and no terminal to ask on): exit code 2. */
export class ConfirmationRequiredError extends WritebackError {
  public constructor(message: string) {
    super('WB_CONFIRMATION_REQUIRED', message);
    this.name = 'ConfirmationRequiredError';
  }
}

/** Neither a running local stack nor a deployed one could be found: exit code 3 (configuration). */
export class StackNotFoundError extends WritebackError {
  public constructor(message: string, options?: ErrorOptions) {
    super('WB_STACK_NOT_FOUND', message, options);
    this.name = 'StackNotFoundError';
  }
}

/** The warehouse or the target cannot be reached from where the CLI runs. */
export class UnreachableError extends WritebackError {
  public constructor(message: string, options?: ErrorOptions) {
    super('WB_UNREACHABLE', message, options);
    this.name = 'UnreachableError';
  }
}
