// The bench's flags: defaults, --quick, engine lists with and without thread counts, and the errors bad flags give.

import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchArgs, parseEngines, parseModels, quantizedFrom, quantizedPairs, variantName } from '../../bench/options.js';
import { accuracyVariants } from '../../bench/suite.js';

describe('parseBenchArgs', () => {
  it('defaults: both models, three engines at 1 and 2 threads, batches 1 and 8, 10 runs after 3 warm-ups, 200 photos', () => {
    const o = parseBenchArgs([]);
    expect(o.models).toEqual(['resnet50', 'vitb16']);
    expect(o.engines.map(variantName)).toEqual(['ocellus:1', 'ocellus:2', 'ort-web:1', 'ort-web:2', 'ort-node:1', 'ort-node:2']);
    expect(o).toMatchObject({ batches: [1, 8], runs: 10, rounds: 1, warmup: 3, accuracy: 200, profile: false, soak: 0, timeout: 300, quick: false, json: undefined, cold: false, dist: undefined });
  });

  it('--quick lowers runs, warm-ups and photos unless they are given', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({ runs: 3, warmup: 1, accuracy: 16, quick: true });
    expect(parseBenchArgs(['--quick', '--runs', '7', '--accuracy', '0'])).toMatchObject({ runs: 7, warmup: 1, accuracy: 0 });
  });

  it('reads every option', () => {
    const o = parseBenchArgs(['--models', 'vit', '--engines', 'ocellus,ort-web:2', '--threads', '4', '--batch', '2,8,2', '--runs', '5',
      '--rounds', '3', '--warmup', '0', '--accuracy', '50', '--json', 'x.json', '--profile', '--soak', '1000', '--timeout', '0', '--cache', '/tmp/c']);
    expect(o.models).toEqual(['vitb16']);
    expect(o.engines.map(variantName)).toEqual(['ocellus:4', 'ort-web:2']);
    expect(o).toMatchObject({ batches: [2, 8], runs: 5, rounds: 3, warmup: 0, accuracy: 50, json: 'x.json', profile: true, soak: 1000, timeout: 0, cache: '/tmp/c' });
  });

  it.each([
    [['--runs', '0'], /--runs must be an integer ≥ 1, got '0'/],
    [['--warmup', 'x'], /--warmup must be an integer ≥ 0/],
    [['--rounds', '0'], /--rounds must be an integer ≥ 1, got '0'/],
    [['--timeout', '1.5'], /--timeout must be an integer ≥ 0, got '1.5'/],
    [['--batch', '1,0'], /--batch: '0' is not an integer from 1 to 256/],
    [['--models', 'alexnet'], /unknown model 'alexnet' \(known: resnet50, vitb16, resnet50-q8, vitb16-q8, all, zoo, small-zoo, mobilenet_v2_op13, /],
    [['--models', 'swin_t_op15'], /unknown model 'swin_t_op15'/],
    [['--dist', 'dist'], /--dist goes with --cold/],
    [['--models', 'resnet50-q4'], /unknown model 'resnet50-q4'/],
    [['--models', ','], /--models needs at least one model/],
    [['--engines', 'tvm'], /unknown engine 'tvm'/],
    [['--engines', 'ort-web:9'], /'9' is not an integer from 1 to 8/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ])('%j is refused with a message naming the flag', (argv, msg) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv)).toThrow(msg);
  });
});

describe('model and engine lists', () => {
  it('model aliases map to ids, without duplicates', () => {
    expect(parseModels('ResNet-50,resnet50,vit-b16')).toEqual(['resnet50', 'vitb16']);
  });

  it('the int8 twins: their ids and aliases, in the order given; all = every model; the default stays fp32', () => {
    expect(parseBenchArgs(['--models', 'resnet50,resnet50-q8,vitb16,vitb16-q8']).models).toEqual(['resnet50', 'resnet50-q8', 'vitb16', 'vitb16-q8']);
    expect(parseModels('VIT-q8,ResNet-50-Q8,vit-b/16-q8')).toEqual(['vitb16-q8', 'resnet50-q8']);
    expect(parseModels('all')).toEqual(['resnet50', 'vitb16', 'resnet50-q8', 'vitb16-q8']);
    expect(parseModels('vitb16-q8,all')).toEqual(['vitb16-q8', 'resnet50', 'vitb16', 'resnet50-q8']);
    expect(parseModels(undefined)).toEqual(['resnet50', 'vitb16']);
  });

  it('an int8 id names its fp32 model; pairs need both sides in the run, ordered by the fp32 side', () => {
    expect(quantizedFrom('resnet50-q8')).toBe('resnet50');
    expect(quantizedFrom('vitb16-q8')).toBe('vitb16');
    expect(quantizedFrom('vitb16')).toBeUndefined();
    expect(quantizedPairs(['vitb16-q8', 'resnet50', 'vitb16', 'resnet50-q8'])).toEqual([['resnet50', 'resnet50-q8'], ['vitb16', 'vitb16-q8']]);
    expect(quantizedPairs(['resnet50-q8', 'vitb16'])).toEqual([]);
    expect(quantizedPairs(['resnet50', 'vitb16'])).toEqual([]);
  });

  it('an engine with its own threads keeps them; others get the --threads list; duplicates drop', () => {
    expect(parseEngines('ort-node:1,ocellus,ort-node:1', [2, 3]).map(variantName)).toEqual(['ort-node:1', 'ocellus:2', 'ocellus:3']);
  });

  it('accuracy outputs come from each engine kind once, at its most threads', () => {
    expect([...accuracyVariants(parseEngines(undefined, [1, 2]))].sort()).toEqual(['ocellus:2', 'ort-node:2', 'ort-web:2']);
    expect([...accuracyVariants(parseEngines('ocellus:1,ort-web:4,ort-web:2', []))].sort()).toEqual(['ocellus:1', 'ort-web:4']);
  });
});
