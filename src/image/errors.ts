// The one error type for bad image input: undecodable bytes, refused formats, limits, unreachable URLs,
// invalid preprocessing configs. Messages are one line and start with the input's name; servers map it to 4xx.

export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
  /** The input the error is about: a path, a URL, 'input 3', or a config key. */
  readonly input: string;

  constructor(input: string, detail: string, options?: { cause?: unknown }) {
    super(`${input}: ${detail}`, options);
    this.input = input;
  }
}
