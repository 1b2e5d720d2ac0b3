export * from './dtype.js';
export * from './graph.js';
export * from './tensor.js';
export * from './edit.js';
export { GraphBuilder } from './builder.js';
