// The one error type of the JPEG decoder: every message starts with "JPEG: " and says what is wrong and where.

export class JpegError extends Error {
  /**
   * @param detail what is wrong, without the "JPEG: " prefix
   * @param located true once the message names where in the file it happened (scan, byte offset)
   */
  constructor(
    readonly detail: string,
    readonly located = false,
  ) {
    super(`JPEG: ${detail}`);
    this.name = 'JpegError';
  }
}
