// Types for pngjs's bounded synchronous inflate (not covered by @types/pngjs).
declare module 'pngjs/lib/sync-inflate.js' {
  /** zlib inflate that stops after `maxLength` output bytes instead of growing without bound. */
  export default function inflateSync(buffer: Buffer, opts?: { chunkSize?: number; maxLength?: number }): Buffer;
}
