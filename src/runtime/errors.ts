// Errors that name the node (op type, name, opset) or the session input they are about.

export interface NodeRef {
  opType: string;
  name: string;
  domain?: string;
  opset?: number;
}

export function describeNode(n: NodeRef): string {
  const op = n.domain && n.domain !== '' ? `${n.domain}:${n.opType}` : n.opType;
  return `${op} '${n.name}'${n.opset !== undefined ? ` (opset ${n.opset})` : ''}`;
}

/** Something is wrong with a node of the model: unsupported attribute, shape mismatch, failed kernel. */
export class ModelError extends Error {
  constructor(readonly node: NodeRef, readonly detail: string) {
    super(`${describeNode(node)}: ${detail}`);
    this.name = 'ModelError';
  }
}

/** The model needs operators ocellus does not have; lists every one of them. */
export class UnsupportedOpsError extends Error {
  constructor(readonly missing: { opType: string; domain: string; opset: number; nodes: string[]; have: number[] }[], file = 'model') {
    super(`${file}: ${missing.length} unsupported operator${missing.length > 1 ? 's' : ''}: ` + missing.map(m =>
      `${m.domain ? m.domain + ':' : ''}${m.opType} (opset ${m.opset}${m.have.length ? `; ocellus has versions since ${m.have.join(', ')}` : ''}; node${m.nodes.length > 1 ? 's' : ''} ${m.nodes.slice(0, 3).map(s => `'${s}'`).join(', ')}${m.nodes.length > 3 ? `, … ${m.nodes.length} in all` : ''})`).join('; '));
    this.name = 'UnsupportedOpsError';
  }
}

/** A feed given to session.run does not match the model's input. */
export class InputError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'InputError';
  }
}
