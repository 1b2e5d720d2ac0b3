// A small WebAssembly binary writer: enough of the format to write ocellus's own kernels from TypeScript (no
// toolchain, no .wasm files in the repo). Functions are written instruction by instruction through a builder that
// names its locals; `wasmModule` lays out the sections (type, import, function, export, code) around them.
// Reference: the WebAssembly core spec §5 (binary format) and the fixed-width/relaxed SIMD proposals' opcode tables.

export type ValType = 'i32' | 'f32' | 'v128';
const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return out.push(b), out;
    out.push(b | 0x80);
  }
}

const name = (s: string) => [...uleb(s.length), ...Array.from(s, c => c.charCodeAt(0))];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Memory the module imports as env.memory: it must match the importing memory's kind (shared or not). */
export interface MemoryImport { shared: boolean; initialPages: number; maximumPages?: number }

/** The bytes of a module with `fns` (exported by name), importing its memory. Function i is callable as `call(i)`. */
export function wasmModule(fns: readonly FunctionBuilder[], memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const types = fns.map(f => [0x60, ...vec(f.paramTypes.map(t => [TYPE_CODE[t]])), ...vec(f.results.map(t => [TYPE_CODE[t]]))]);
  // A shared memory must state its maximum; an unshared one states none, so any maximum the importer has matches.
  const limits = memory.shared
    ? [3, ...uleb(memory.initialPages), ...uleb(memory.maximumPages ?? 65536)]
    : [0, ...uleb(memory.initialPages)];
  const bodies = fns.map(f => {
    const body = [...vec(f.localTypes.map(t => [1, TYPE_CODE[t]])), ...f.code, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

/** memarg for a load/store: alignment exponent and constant byte offset. */
const mem = (align: number, offset: number) => [align, ...uleb(offset)];
const simd = (code: number) => [0xfd, ...uleb(code)];

/**
 * One function: named params and locals, and an instruction stream. Methods append instructions and return the
 * builder, so code reads top to bottom like the text format (a stack machine: operands are pushed first).
 */
export class FunctionBuilder {
  readonly paramTypes: ValType[] = [];
  readonly localTypes: ValType[] = [];
  readonly code: number[] = [];
  private readonly index = new Map<string, number>();

  constructor(readonly name: string, params: Record<string, ValType>, readonly results: ValType[] = []) {
    for (const [n, t] of Object.entries(params)) {
      this.index.set(n, this.paramTypes.length);
      this.paramTypes.push(t);
    }
  }

  /** Declares locals (zero-initialised). */
  locals(decl: Record<string, ValType>): this {
    for (const [n, t] of Object.entries(decl)) {
      if (this.index.has(n)) throw new Error(`${this.name}: local '${n}' declared twice`);
      this.index.set(n, this.paramTypes.length + this.localTypes.length);
      this.localTypes.push(t);
    }
    return this;
  }

  private at(n: string): number[] {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`${this.name}: no local '${n}'`);
    return uleb(i);
  }

  raw(...bytes: number[]): this { this.code.push(...bytes); return this; }
  get(n: string): this { return this.raw(0x20, ...this.at(n)); }
  set(n: string): this { return this.raw(0x21, ...this.at(n)); }
  tee(n: string): this { return this.raw(0x22, ...this.at(n)); }
  i32(v: number): this { return this.raw(0x41, ...sleb(v | 0)); }

  // i32 arithmetic and comparisons (signed)
  add(): this { return this.raw(0x6a); }
  sub(): this { return this.raw(0x6b); }
  mul(): this { return this.raw(0x6c); }
  divS(): this { return this.raw(0x6d); }
  remS(): this { return this.raw(0x6f); }
  and(): this { return this.raw(0x71); }
  or(): this { return this.raw(0x72); }
  shl(): this { return this.raw(0x74); }
  eqz(): this { return this.raw(0x45); }
  eq(): this { return this.raw(0x46); }
  ne(): this { return this.raw(0x47); }
  ltS(): this { return this.raw(0x48); }
  gtS(): this { return this.raw(0x4a); }
  leS(): this { return this.raw(0x4c); }
  geS(): this { return this.raw(0x4e); }
  /** [a, b, cond] → cond ? a : b */
  select(): this { return this.raw(0x1b); }

  // f32 scalars
  f32(x: number): this { return this.raw(0x43, ...new Uint8Array(new Float32Array([x]).buffer)); }
  f32Add(): this { return this.raw(0x92); }
  f32Mul(): this { return this.raw(0x94); }
  f32Div(): this { return this.raw(0x95); }
  f32Max(): this { return this.raw(0x97); }
  f32Min(): this { return this.raw(0x96); }
  f32Sub(): this { return this.raw(0x93); }
  f32Sqrt(): this { return this.raw(0x91); }
  f32ReinterpretI32(): this { return this.raw(0xbe); }
  /** [i32] → f32 */
  f32ConvertI32S(): this { return this.raw(0xb2); }

  // control
  block(): this { return this.raw(0x02, 0x40); }
  loop(): this { return this.raw(0x03, 0x40); }
  /** `if` with no result, or one of type `result` (both arms then push one value). */
  if(result?: ValType): this { return this.raw(0x04, result ? TYPE_CODE[result] : 0x40); }
  else(): this { return this.raw(0x05); }
  end(): this { return this.raw(0x0b); }
  br(depth: number): this { return this.raw(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.raw(0x0d, ...uleb(depth)); }
  call(fn: number): this { return this.raw(0x10, ...uleb(fn)); }

  // memory
  f32Load(offset = 0): this { return this.raw(0x2a, ...mem(2, offset)); }
  f32Store(offset = 0): this { return this.raw(0x38, ...mem(2, offset)); }
  i32Load(offset = 0): this { return this.raw(0x28, ...mem(2, offset)); }
  /** [dst, src, bytes] */
  memoryCopy(): this { return this.raw(0xfc, ...uleb(10), 0, 0); }
  /** [dst, byte, bytes] */
  memoryFill(): this { return this.raw(0xfc, ...uleb(11), 0); }

  // SIMD (128-bit)
  v128Load(offset = 0): this { return this.raw(...simd(0x00), ...mem(4, offset)); }
  v128Store(offset = 0): this { return this.raw(...simd(0x0b), ...mem(4, offset)); }
  /** Loads one f32 into all four lanes. */
  loadSplat32(offset = 0): this { return this.raw(...simd(0x09), ...mem(2, offset)); }
  v128Zero(): this { return this.raw(...simd(0x0c), ...new Array<number>(16).fill(0)); }
  /** v128.const with `x` in all four f32 lanes. */
  f32x4Const(x: number): this { return this.raw(...simd(0x0c), ...new Uint8Array(new Float32Array([x, x, x, x]).buffer)); }
  f32x4Splat(): this { return this.raw(...simd(0x13)); }
  f32x4ExtractLane0(): this { return this.raw(...simd(0x1f), 0); }
  f32x4ExtractLane(lane: number): this { return this.raw(...simd(0x1f), lane); }
  f32x4Nearest(): this { return this.raw(...simd(0x6a)); }
  /** f32 lanes → i32 lanes, truncating, saturating. */
  i32x4TruncSatF32x4(): this { return this.raw(...simd(0xf8)); }
  i32x4Add(): this { return this.raw(...simd(0xae)); }
  /** [v128, i32 shift] */
  i32x4Shl(): this { return this.raw(...simd(0xab)); }
  i32x4Const(x: number): this { return this.raw(...simd(0x0c), ...new Uint8Array(new Int32Array([x, x, x, x]).buffer)); }
  f32x4Sub(): this { return this.raw(...simd(0xe5)); }
  f32x4Neg(): this { return this.raw(...simd(0xe1)); }
  f32x4Abs(): this { return this.raw(...simd(0xe0)); }
  f32x4Div(): this { return this.raw(...simd(0xe7)); }
  f32x4Min(): this { return this.raw(...simd(0xe8)); }
  f32x4Add(): this { return this.raw(...simd(0xe4)); }
  f32x4Mul(): this { return this.raw(...simd(0xe6)); }
  f32x4Max(): this { return this.raw(...simd(0xe9)); }
  /** Relaxed SIMD: [a, b, c] → a·b + c, fused where the CPU has FMA (one rounding) and unfused elsewhere. */
  f32x4RelaxedMadd(): this { return this.raw(...simd(0x105)); }

  // memory (8/16/32-bit scalars) and integer SIMD, for the int8 kernels (kernels/wasm/int8-module.ts)
  i32Load8U(offset = 0): this { return this.raw(0x2d, ...mem(0, offset)); }
  i32Store(offset = 0): this { return this.raw(0x36, ...mem(2, offset)); }
  i32Store8(offset = 0): this { return this.raw(0x3a, ...mem(0, offset)); }
  xor(): this { return this.raw(0x73); }
  shrS(): this { return this.raw(0x75); }
  /** Loads two bytes into all eight 16-bit lanes. */
  loadSplat16(offset = 0): this { return this.raw(...simd(0x08), ...mem(1, offset)); }
  i8x16Splat(): this { return this.raw(...simd(0x0f)); }
  i32x4Splat(): this { return this.raw(...simd(0x11)); }
  i32x4ExtractLane(lane: number): this { return this.raw(...simd(0x1b), lane); }
  v128And(): this { return this.raw(...simd(0x4e)); }
  v128Xor(): this { return this.raw(...simd(0x51)); }
  /** i16 lanes → u8 lanes, saturating: [a, b] → a's eight, then b's. */
  i8x16NarrowI16x8U(): this { return this.raw(...simd(0x66)); }
  /** i32 lanes → i16 lanes, saturating: [a, b] → a's four, then b's. */
  i16x8NarrowI32x4S(): this { return this.raw(...simd(0x85)); }
  i16x8ExtendLowI8x16S(): this { return this.raw(...simd(0x87)); }
  i16x8ExtendHighI8x16S(): this { return this.raw(...simd(0x88)); }
  i16x8ExtendLowI8x16U(): this { return this.raw(...simd(0x89)); }
  i16x8ExtendHighI8x16U(): this { return this.raw(...simd(0x8a)); }
  /** Pairwise widening sums: u8 lanes → u16 lanes (i16x8.extadd_pairwise_i8x16_u). */
  i16x8ExtaddPairwiseI8x16U(): this { return this.raw(...simd(0x7d)); }
  /** Pairwise widening sums: u16 lanes → i32 lanes (i32x4.extadd_pairwise_i16x8_u). */
  i32x4ExtaddPairwiseI16x8U(): this { return this.raw(...simd(0x7f)); }
  i32x4Sub(): this { return this.raw(...simd(0xb1)); }
  i32x4Mul(): this { return this.raw(...simd(0xb5)); }
  i32x4MinS(): this { return this.raw(...simd(0xb6)); }
  i32x4MaxS(): this { return this.raw(...simd(0xb8)); }
  /** [a, b: i16x8] → i32 lanes a[2i]·b[2i] + a[2i+1]·b[2i+1] (exact for any 8-bit values). */
  i32x4DotI16x8S(): this { return this.raw(...simd(0xba)); }
  f32x4ConvertI32x4S(): this { return this.raw(...simd(0xfa)); }
  /** Relaxed SIMD: [a: i8x16, b: i7x16, c: i32x4] → c + per i32 lane the sum of four a·b byte products. Defined only
   *  while b's bytes are in 0…127 (x86 lowers it to pmaddubsw, b unsigned, with i16-saturating pair sums). */
  i32x4RelaxedDotI8x16I7x16AddS(): this { return this.raw(...simd(0x113)); }

  // small structured helpers
  /** `for (v = from; v < to; v += step) body()` with from/to/step pushing one i32 each. */
  forRange(v: string, from: () => void, to: () => void, step: number | (() => void), body: () => void): this {
    from(); this.set(v);
    this.block().loop();
    this.get(v); to(); this.geS().brIf(1);
    body();
    this.get(v);
    if (typeof step === 'number') this.i32(step); else step();
    this.add().set(v).br(0);
    this.end().end();
    return this;
  }

  /** Pushes min(a, b) (signed) of two pushed-by-callback values, evaluating each twice (keep them cheap). */
  minS(a: () => void, b: () => void): this {
    a(); b(); a(); b(); this.ltS();
    return this.select();
  }
}

/** A module with one function `f(a, b, c: v128) → v128` using f32x4.relaxed_madd: validates only where relaxed SIMD is on. */
export function relaxedSimdProbe(): Uint8Array<ArrayBuffer> {
  const f = new FunctionBuilder('f', { a: 'v128', b: 'v128', c: 'v128' }, ['v128']);
  f.get('a').get('b').get('c').f32x4RelaxedMadd();
  return wasmModule([f], { shared: false, initialPages: 0 });
}
