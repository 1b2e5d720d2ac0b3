// The package root: the onnxruntime-web-shaped session API. (The pipeline API is added in src/pipeline.)

export { InferenceSession, type SessionOptions, type InputMetadata } from './runtime/session.js';
export { Tensor, type DType, type TensorData } from './runtime/tensor.js';
export { ModelError, UnsupportedOpsError, InputError } from './runtime/errors.js';
export { ModelLoadError } from './onnx/errors.js';
