// What a bare classifier file gets when it comes without Hugging Face configs: torchvision's ImageNet evaluation
// preprocessing (resize the shorter side to 256 with bilinear filtering, centre-crop 224, scale to [0, 1], normalise
// with the ImageNet mean and std — scaled to the model's input size when that is fixed and not 224) and, for
// 1000-class outputs, the ImageNet-1k class names.
// Labels: classification_classes_ILSVRC2012.txt from OpenCV's samples (Apache License 2.0, (c) OpenCV contributors),
// in class-index order, in imagenet-labels.json.

import labels from './imagenet-labels.json' with { type: 'json' };

export const IMAGENET_LABELS: readonly string[] = Object.freeze(labels as string[]);

/** torchvision's eval transform for a square input of `size` pixels (224 → resize 256, crop 224), as a preprocessor_config. */
export function imagenetPreprocessor(size = 224): Record<string, unknown> {
  return {
    image_processor_type: 'ViTImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { shortest_edge: Math.round((size * 256) / 224) },
    resample: 2,   // PIL BILINEAR (torchvision's Resize default, antialiased like PIL)
    do_center_crop: true,
    crop_size: { height: size, width: size },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
  };
}
