// Errors raised while reading a model file: they always name the file (or "model bytes") first.

export class ModelLoadError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ModelLoadError';
  }
}
