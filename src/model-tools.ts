// The composition root's wiring of offline tooling into the pipeline (see src/pipeline/tools.ts): weights-tools'
// int8 quantizer, imported only when a model is first quantized. The package entry (src/index.ts) and the CLI call
// installModelTools(); nothing below the pipeline knows weights-tools exists.

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
}
