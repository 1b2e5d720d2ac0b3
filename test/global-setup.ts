// Runs once before any test file: prepares the real models into the test cache so parallel test files
// never race to build them.

import { resnet50Dir, vitB16Dir } from './helpers/models.js';

export async function setup(): Promise<void> {
  await resnet50Dir();
  await vitB16Dir();
}
