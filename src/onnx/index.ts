export { decodeModel, MIN_IR_VERSION, MAX_IR_VERSION, type DecodeOptions } from './decode.js';
export { encodeModel } from './encode.js';
export { loadModel, type ModelSource } from './load.js';
export { ModelLoadError } from './errors.js';
export { tensorFromProto, tensorToProto } from './tensor-proto.js';
export { onnx } from './proto.js';
