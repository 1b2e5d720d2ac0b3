// The one place protobufjs is configured: int64 fields decode to plain numbers whatever packages sit beside
// us (a `long` module would otherwise turn them into Long objects in some installs and not in others).

import $protobuf from 'protobufjs/minimal.js';
import { onnx } from './onnx-proto.js';

$protobuf.util.Long = undefined as never;
$protobuf.configure();

export { onnx };

/** int64 fields decode as numbers after configure(); this guards against a Long slipping through anyway. */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
