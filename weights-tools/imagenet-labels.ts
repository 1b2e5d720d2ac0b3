// The 1000 ImageNet-1k class names, for the model folders weights-tools writes: the list itself is data, kept once in
// src/pipeline/imagenet-labels.json (the pipeline also uses it for bare 1000-class .onnx files without a config.json).

export { IMAGENET_LABELS } from '../src/pipeline/model-defaults.js';
