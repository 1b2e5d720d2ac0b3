// The JSON report: a report built by the suite's functions survives JSON and validates; damaged reports are
// refused with the path of the bad field.

import { describe, expect, it } from 'vitest';
import { checkReport, REPORT_VERSION } from '../../bench/schema.js';
import { syntheticQ8Report, syntheticReport } from './fixtures.js';

const roundTrip = (x: unknown) => JSON.parse(JSON.stringify(x)) as Record<string, any>;

describe('checkReport', () => {
  it('accepts a report built by the suite functions, after a JSON round trip', () => {
    const r = roundTrip(syntheticReport());
    expect(checkReport(r)).toEqual([]);
    expect(r.version).toBe(REPORT_VERSION);
    expect(r.results).toHaveLength(8);
  });

  it('accepts a run with nothing measured (every engine failed)', () => {
    const r = roundTrip(syntheticReport());
    r.engines = r.engines.map((e: Record<string, unknown>) => ({ model: e.model, engine: e.engine, kind: e.kind, threads: e.threads, info: {}, error: 'crashed' }));
    Object.assign(r, { results: [], accuracy: [], profiles: [], soak: [], targets: [] });
    expect(checkReport(r)).toEqual([]);
  });

  it('a NaN output difference is written as null and still validates', () => {
    const r = syntheticReport();
    r.accuracy[0]!.engines[1]!.vsReference!.maxAbsDiff = NaN;
    const j = roundTrip(r);
    expect(j.accuracy[0].engines[1].vsReference.maxAbsDiff).toBeNull();
    expect(checkReport(j)).toEqual([]);
  });

  it.each([
    ['a missing top-level field', (r: any) => { delete r.machine; }, 'report.machine: missing'],
    ['a string where a number belongs', (r: any) => { r.results[2].ms.median = '12'; }, 'report.results[2].ms.median: expected a number, got "12"'],
    ['a missing latency field', (r: any) => { delete r.results[0].ms.max; }, 'report.results[0].ms.max: missing'],
    ['a bad optional field', (r: any) => { r.engines[1].peakRssMiB = 'lots'; }, 'report.engines[1].peakRssMiB: expected a number, got "lots"'],
    ['a non-array list', (r: any) => { r.soak = {}; }, 'report.soak: expected an array'],
    ['a bad soak sample', (r: any) => { r.soak[0].rssMiB[1][1] = null; }, 'report.soak[0].rssMiB[1][1]: expected a number, got null'],
    ['a non-string version entry', (r: any) => { r.versions.ocellus = 1; }, 'report.versions.ocellus: expected a string, got 1'],
    ['a goal without its verdict', (r: any) => { delete r.targets[0].met; }, 'report.targets[0].met: missing'],
    ['another version', (r: any) => { r.version = 2; }, 'report.version: expected 1, got 2'],
  ])('refuses %s, naming the field', (_what, damage, message) => {
    const r = roundTrip(syntheticReport());
    damage(r);
    expect(checkReport(r)).toContain(message);
  });

  it('accepts a run with int8 twins (sizes, baselines, probes, comparisons, int8 goals) after a JSON round trip', () => {
    const r = roundTrip(syntheticQ8Report().report);
    expect(checkReport(r)).toEqual([]);
    expect(r.quantized).toHaveLength(2);
    expect(r.rssProbes).toHaveLength(3);
    expect(r.targets.filter((t: { group?: string }) => t.group === 'q8')).toHaveLength(3);
  });

  it.each([
    ['a comparison without file sizes', (r: any) => { delete r.quantized[0].fileMiB; }, 'report.quantized[0].fileMiB: missing'],
    ['a bad latency ratio', (r: any) => { r.quantized[0].latency[1].ratio = 'fast'; }, 'report.quantized[0].latency[1].ratio: expected a number, got "fast"'],
    ['an agreement without photos', (r: any) => { delete r.quantized[1].agreement[0].images; }, 'report.quantized[1].agreement[0].images: missing'],
    ['a failure without its message', (r: any) => { delete r.quantized[1].failed[0].error; }, 'report.quantized[1].failed[0].error: missing'],
    ['a probe with a string peak', (r: any) => { r.rssProbes[1].peakMiB = '163'; }, 'report.rssProbes[1].peakMiB: expected a number, got "163"'],
    ['a baseline without the empty node', (r: any) => { delete r.baseline.emptyNodeMiB; }, 'report.baseline.emptyNodeMiB: missing'],
    ['a bad accuracy batch', (r: any) => { r.accuracy[2].batch = '1'; }, 'report.accuracy[2].batch: expected a number, got "1"'],
    ['a bad model size', (r: any) => { r.models[2].fileMiB = null; }, 'report.models[2].fileMiB: expected a number, got null'],
    ['a goal group that is not a string', (r: any) => { r.targets.at(-1).group = 8; }, `report.targets[${syntheticQ8Report().report.targets.length - 1}].group: expected a string, got 8`],
  ])('refuses an int8 report with %s, naming the field', (_what, damage, message) => {
    const r = roundTrip(syntheticQ8Report().report);
    damage(r);
    expect(checkReport(r)).toContain(message);
  });

  it('refuses things that are not reports at all', () => {
    expect(checkReport(null)).toEqual(['report: expected an object']);
    expect(checkReport([])).toEqual(['report: expected an object']);
  });
});
