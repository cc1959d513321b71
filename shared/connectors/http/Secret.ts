const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A credential that cannot leak by accident: logging, JSON.stringify, string interpolation and
 * util.inspect all print `[redacted]`. Only `reveal()` gives the value, at the point of use.
 */
export class Secret {
  readonly #value: string;

  public constructor(value: string) {
    this.#value = value;
  }

  /** The credential itself; call it only where it goes on the wire. */
  public reveal(): string {
    return this.#value;
  }

  public toString(): string {
    return '[redacted]';
  }

  public toJSON(): string {
    return '[redacted]';
  }

  public [INSPECT](): string {
    return 'Secret([redacted])';
  }
}
