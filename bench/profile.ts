// --profile: per-step times from ocellus's afterStep hook, summed into time per op type and the slowest nodes.
// The recorder is fed (node, ms) pairs over several runs; summaries are per run (mean over the runs).

export interface OpTypeTime {
  opType: string;
  /** Mean ms per run spent in nodes of this type. */
  ms: number;
  /** Share of the summed step time. */
  share: number;
  /** Nodes of this type in the plan. */
  nodes: number;
}

export interface NodeTime {
  name: string;
  opType: string;
  /** Mean ms per run. */
  ms: number;
  /** Output shape, e.g. [1, 56, 56, 256]. */
  shape: number[];
}

export interface ProfileSummary {
  runs: number;
  /** Summed step time per run (ms); the rest of a run's wall time is input upload and output readback. */
  stepMs: number;
  byOpType: OpTypeTime[];
  slowest: NodeTime[];
}

export class ProfileRecorder {
  private readonly nodes = new Map<string, { name: string; opType: string; ms: number; shape: number[] }>();
  private runs = 0;

  /** Call once per run before its steps. */
  startRun(): void {
    this.runs++;
  }

  /** One step: `key` tells nodes apart (the plan's step index works; names may be empty). */
  record(key: string, name: string, opType: string, ms: number, shape: readonly number[] = []): void {
    const n = this.nodes.get(key);
    if (n) n.ms += ms;
    else this.nodes.set(key, { name, opType, ms, shape: [...shape] });
  }

  summary(top = 10): ProfileSummary {
    const runs = Math.max(1, this.runs);
    const all = [...this.nodes.values()].map(n => ({ ...n, ms: n.ms / runs }));
    const stepMs = all.reduce((a, n) => a + n.ms, 0);
    const byType = new Map<string, OpTypeTime>();
    for (const n of all) {
      const t = byType.get(n.opType) ?? { opType: n.opType, ms: 0, share: 0, nodes: 0 };
      t.ms += n.ms;
      t.nodes++;
      byType.set(n.opType, t);
    }
    const byOpType = [...byType.values()].map(t => ({ ...t, share: stepMs ? t.ms / stepMs : 0 })).sort((a, b) => b.ms - a.ms);
    const slowest = all.sort((a, b) => b.ms - a.ms).slice(0, top).map(({ name, opType, ms, shape }) => ({ name, opType, ms, shape }));
    return { runs: this.runs, stepMs, byOpType, slowest };
  }
}
