// Public API of the JPEG decoder: a TypeScript port of libjpeg-turbo 2.1.5's default decode path (what PIL uses),
// value-for-value: islow IDCT, fancy upsampling, fixed-point YCbCr→RGB. See decode.ts.

export { decodeJpeg, readJpegHeader } from './decode.js';
export type { DecodeJpegOptions, JpegHeader, JpegImage } from './decode.js';
export { JpegError } from './errors.js';
