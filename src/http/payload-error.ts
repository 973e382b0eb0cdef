/** A payload that passed the schema but still cannot be taken (an unparseable time): a 400 naming the field. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}
