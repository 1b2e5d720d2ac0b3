// Typed reading of node attributes with spec defaults written at the call site: `n.attrs.int('group', 1)`.
// A missing attribute without default, or one of the wrong type, is an error naming the node and both types.

import type { AttrType, AttrValue, ConstTensor } from '../src/ir/graph.js';

export class AttrReader {
  constructor(private readonly attrs: Record<string, AttrValue>, private readonly fail: (detail: string) => never) {}

  has(name: string): boolean {
    return name in this.attrs;
  }

  names(): string[] {
    return Object.keys(this.attrs);
  }

  private get<T>(name: string, type: AttrType, dflt: T | undefined): T {
    const a = this.attrs[name];
    if (!a) {
      if (dflt === undefined) this.fail(`required attribute '${name}' is missing`);
      return dflt as T;
    }
    if (a.type !== type) {
      // ints written as a single int, or floats as ints, appear in hand-made models: accept the lossless cases.
      if (type === 'float' && a.type === 'int') return a.value as T;
      if (type === 'ints' && a.type === 'int') return [a.value] as T;
      if (type === 'floats' && (a.type === 'ints' || a.type === 'float')) return (a.type === 'float' ? [a.value] : a.value) as T;
      this.fail(`attribute '${name}' should be ${type} but is ${a.type}`);
    }
    return a.value as T;
  }

  int(name: string, dflt?: number): number { return this.get(name, 'int', dflt); }
  float(name: string, dflt?: number): number { return this.get(name, 'float', dflt); }
  string(name: string, dflt?: string): string { return this.get(name, 'string', dflt); }
  ints(name: string, dflt?: number[]): number[] { return this.get(name, 'ints', dflt); }
  floats(name: string, dflt?: number[]): number[] { return this.get(name, 'floats', dflt); }
  strings(name: string, dflt?: string[]): string[] { return this.get(name, 'strings', dflt); }
  tensor(name: string, dflt?: ConstTensor): ConstTensor { return this.get(name, 'tensor', dflt); }
  /** ints or undefined when absent (for attributes whose absence means "derive it"). */
  optInts(name: string): number[] | undefined { return this.has(name) ? this.ints(name) : undefined; }
}
