/** A value that cannot be normalised; the message says why, for the mapping report. */
export class NormaliseError extends Error {
  override readonly name = 'NormaliseError';

  constructor(message: string) {
    // Refused values are routine in dirty exports: skip the stack trace, which costs more than the check.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}
