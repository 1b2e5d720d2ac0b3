// Class labels from a Hugging Face config.json (`id2label`), and turning a model's output row into the top-k.

export interface Classification {
  label: string;
  score: number;
}

export function labelsFromConfig(config: Record<string, unknown> | undefined, classes: number): string[] {
  const id2label = (config?.id2label ?? {}) as Record<string, unknown>;
  return Array.from({ length: classes }, (_, i) => {
    const l = id2label[String(i)];
    return typeof l === 'string' ? l : `LABEL_${i}`;
  });
}

/** Softmax in float64 (max-subtracted), returned as plain numbers. */
export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  const e = Array.from(row, v => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map(v => v / sum);
}

/** The k highest scores, highest first (ties keep the lower class index first). */
export function topK(scores: readonly number[], labels: readonly string[], k: number): Classification[] {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, Math.min(k, scores.length)).map(i => ({ label: labels[i] ?? `LABEL_${i}`, score: scores[i]! }));
}
