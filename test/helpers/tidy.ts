// tf.tidy around a call whose result is not a tensor (packed weights: heap blocks of ocellus's own). tidy frees the
// call's intermediate tensors and hands any result back as it is; only its types insist on a tensor container.

import * as tf from '@tensorflow/tfjs-core';

export function tidyValue<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
