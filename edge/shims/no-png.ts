// Bundled in place of `pngjs` and `node:zlib` for Workers and browsers, where src/image/png.ts cannot run yet
// (it needs Node's zlib and Buffer). Edge entries refuse PNG before decoding (see refuseUnsupported in
// edge/engine.ts); these stubs only keep the bundle loadable and fail loudly if reached anyway.

const unavailable = (): never => {
  throw new Error('PNG decoding is not available in this runtime (it needs node:zlib); send a JPEG');
};

export const constants = { Z_SYNC_FLUSH: 2 };
export const inflateSync = unavailable;
export const deflateSync = unavailable;
export const PNG = { sync: { read: unavailable } };
export default { PNG, constants, inflateSync, deflateSync };
