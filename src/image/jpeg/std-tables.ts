// The JPEG Annex K.3 Huffman tables, which libjpeg-turbo installs (jstdhuff.c std_huff_tables) for slots 0 and 1 when
// a file defines no DHT for them (Motion-JPEG frames). The AC symbol lists are written as their irregular head
// followed by every remaining run/size symbol in increasing order, which is how the standard lists run.

import { HuffmanDefinition } from './huffman.js';

const ALL_AC_SYMBOLS = (() => {
  const s = [0x00, 0xf0];
  for (let r = 0; r < 16; r++) for (let size = 1; size <= 10; size++) s.push((r << 4) | size);
  return s.sort((a, b) => a - b);
})();

function acTable(counts: number[], head: number[]): HuffmanDefinition {
  const symbols = [...head, ...ALL_AC_SYMBOLS.filter(s => !head.includes(s))];
  return new HuffmanDefinition(Uint8Array.from(counts), Uint8Array.from(symbols));
}

const DC_SYMBOLS = Uint8Array.from({ length: 12 }, (_, i) => i);

/** [luminance, chrominance] */
export const STD_DC_TABLES: readonly HuffmanDefinition[] = [
  new HuffmanDefinition(Uint8Array.from([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), DC_SYMBOLS),
  new HuffmanDefinition(Uint8Array.from([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), DC_SYMBOLS),
];

export const STD_AC_TABLES: readonly HuffmanDefinition[] = [
  acTable([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125], [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
    0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82,
  ]),
  acTable([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119], [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
    0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16,
    0x24, 0x34, 0xe1, 0x25, 0xf1,
  ]),
];
