export * from './dtype.js';
export * from './graph.js';
export * from './tensor.js';
export * from './edit.js';
export * from './graph-index.js';
export * from './attrs.js';
export * from './match.js';
export * from './transpose.js';
export { GraphBuilder } from './builder.js';
