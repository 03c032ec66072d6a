/** A value that cannot be normalised; the message says why, for the mapping report. */
export class NormaliseError extends Error {
  override readonly name = 'NormaliseError';
}
