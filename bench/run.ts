// `npm run bench` (tsx bench/run.ts …): the same entry as `ocellus bench …`.

import { runBench } from '../src/cli/bench.js';

process.exitCode = await runBench(process.argv.slice(2), process.env.npm_lifecycle_event === 'bench' ? 'npm run bench --' : 'npx tsx bench/run.ts');
