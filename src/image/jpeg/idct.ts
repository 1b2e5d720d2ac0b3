// Integer inverse DCT with dequantisation: libjpeg-turbo's jpeg_idct_islow (jidctint.c), the default "islow"
// method, computed with the same constants (CONST_BITS 13, PASS1_BITS 2), the same rounding DESCALEs and the same
// output through IDCT_range_limit masked with 0x3FF. Intermediates stay within int32 for real image data, as in
// libjpeg-turbo's SIMD versions of this routine.

const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/**
 * IDCT_range_limit(x & 0x3FF): libjpeg's post-IDCT table (jdmaster.c prepare_range_limit_table) seen from its
 * centre. x is the centred sample; 0..127 → 128..255, 128..511 → 255, 512..895 → 0, 896..1023 → 0..127.
 */
const RANGE_LIMIT = (() => {
  const t = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) {
    if (i < 128) t[i] = i + 128;
    else if (i < 512) t[i] = 255;
    else if (i < 896) t[i] = 0;
    else t[i] = i - 896;
  }
  return t;
})();

/**
 * Transforms 64 dequantised coefficients (natural order; DEQUANTIZE(coef, q) = (short)coef * (short)q already
 * applied, see dequantize) into an 8×8 block of samples at out[o0 + row*stride + col]. `ws` is a 64-entry workspace.
 */
export function idctIslow(
  d: Int32Array,
  out: Uint8Array,
  o0: number,
  stride: number,
  ws: Int32Array,
): void {
  // Pass 1: columns from the input into the workspace, scaled up by 2^PASS1_BITS.
  for (let c = 0; c < 8; c++) {
    if (
      d[c + 8] === 0 && d[c + 16] === 0 && d[c + 24] === 0 && d[c + 32] === 0 &&
      d[c + 40] === 0 && d[c + 48] === 0 && d[c + 56] === 0
    ) {
      const dc = d[c] << 2;
      ws[c] = dc; ws[c + 8] = dc; ws[c + 16] = dc; ws[c + 24] = dc;
      ws[c + 32] = dc; ws[c + 40] = dc; ws[c + 48] = dc; ws[c + 56] = dc;
      continue;
    }
    // Even part.
    let z2 = d[c + 16];
    let z3 = d[c + 48];
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 - z3 * FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = d[c];
    z3 = d[c + 32];
    let tmp0 = (z2 + z3) << 13;
    let tmp1 = (z2 - z3) << 13;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    // Odd part.
    tmp0 = d[c + 56];
    tmp1 = d[c + 40];
    tmp2 = d[c + 24];
    tmp3 = d[c + 8];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    // DESCALE(x, CONST_BITS - PASS1_BITS)
    ws[c] = (tmp10 + tmp3 + 1024) >> 11;
    ws[c + 56] = (tmp10 - tmp3 + 1024) >> 11;
    ws[c + 8] = (tmp11 + tmp2 + 1024) >> 11;
    ws[c + 48] = (tmp11 - tmp2 + 1024) >> 11;
    ws[c + 16] = (tmp12 + tmp1 + 1024) >> 11;
    ws[c + 40] = (tmp12 - tmp1 + 1024) >> 11;
    ws[c + 24] = (tmp13 + tmp0 + 1024) >> 11;
    ws[c + 32] = (tmp13 - tmp0 + 1024) >> 11;
  }

  // Pass 2: rows from the workspace to the output, DESCALE by CONST_BITS + PASS1_BITS + 3.
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = o0 + r * stride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 &&
        ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = RANGE_LIMIT[((ws[w] + 16) >> 5) & 1023];
      out[o] = v; out[o + 1] = v; out[o + 2] = v; out[o + 3] = v;
      out[o + 4] = v; out[o + 5] = v; out[o + 6] = v; out[o + 7] = v;
      continue;
    }
    // Even part.
    let z2 = ws[w + 2];
    let z3 = ws[w + 6];
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 - z3 * FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (ws[w] + ws[w + 4]) << 13;
    let tmp1 = (ws[w] - ws[w + 4]) << 13;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    // Odd part.
    tmp0 = ws[w + 7];
    tmp1 = ws[w + 5];
    tmp2 = ws[w + 3];
    tmp3 = ws[w + 1];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const half = 1 << 17;
    out[o] = RANGE_LIMIT[((tmp10 + tmp3 + half) >> 18) & 1023];
    out[o + 7] = RANGE_LIMIT[((tmp10 - tmp3 + half) >> 18) & 1023];
    out[o + 1] = RANGE_LIMIT[((tmp11 + tmp2 + half) >> 18) & 1023];
    out[o + 6] = RANGE_LIMIT[((tmp11 - tmp2 + half) >> 18) & 1023];
    out[o + 2] = RANGE_LIMIT[((tmp12 + tmp1 + half) >> 18) & 1023];
    out[o + 5] = RANGE_LIMIT[((tmp12 - tmp1 + half) >> 18) & 1023];
    out[o + 3] = RANGE_LIMIT[((tmp13 + tmp0 + half) >> 18) & 1023];
    out[o + 4] = RANGE_LIMIT[((tmp13 - tmp0 + half) >> 18) & 1023];
  }
}

/**
 * idctIslow for a block whose AC coefficients are all zero: both passes take their all-zero shortcuts, so every
 * sample is range_limit[DESCALE(dc * q0 << PASS1_BITS, PASS1_BITS + 3)].
 */
export function idctDcOnly(dcDequantised: number, out: Uint8Array, o0: number, stride: number): void {
  const v = RANGE_LIMIT[(((dcDequantised << 2) + 16) >> 5) & 1023];
  for (let r = 0, o = o0; r < 8; r++, o += stride) out.fill(v, o, o + 8);
}

/** DEQUANTIZE for a stored block: JCOEF (short) coefficients times ISLOW_MULT_TYPE (short) quantisers. */
export function dequantize(coef: Int16Array, c0: number, q: Int16Array, d: Int32Array): void {
  for (let i = 0; i < 64; i++) d[i] = coef[c0 + i] * q[i];
}
