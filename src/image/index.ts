// Public API of the image layer: load/decode (JPEG, PNG), PIL-exact resize, Hugging Face preprocessing.

export type { RawImage } from './types.js';
export { ImageInputError } from './errors.js';
export { DEFAULT_MAX_PIXELS, type DecodeWork } from './limits.js';
export { decodeImage, detectFormat, type DecodeOptions } from './decode.js';
export { loadImage, isRawImage, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_MS, type ImageInput, type LoadOptions } from './load.js';
export { resize, Resample, RESAMPLE_NAMES, type ResampleFilter } from './resize.js';
export { toRGB } from './convert.js';
export { applyExifOrientation, readExifOrientation } from './orientation.js';
export { readPngHeader, type PngHeader } from './png.js';
export {
  ImageProcessor, parseProcessorConfig, centerCrop, CLASS_DEFAULTS, KERAS_RESNET50_CAFFE_CONFIG,
  type ProcessorSpec, type ResizeSpec,
} from './preprocess.js';
