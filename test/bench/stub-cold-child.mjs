// A stand-in for bench/cold-child.mjs in test/bench/cold.test.ts: answers with figures made from its job (create =
// 100 × threads for ocellus, 200 × threads otherwise; import 10, first run 5, VmHWM 50 MiB), appends its engine to
// the file named by STUB_COLD_LOG (the order the tries ran in), and fails for an engine kind 'broken'.
import fs from 'node:fs';
const job = JSON.parse(process.argv[2]);
fs.appendFileSync(process.env.STUB_COLD_LOG, `${job.kind}:${job.threads}:${process.env.OCELLUS_THREADS ?? '-'}\n`);
if (job.kind === 'broken') { console.log(JSON.stringify({ error: `${job.modelPath}: cannot load` })); process.exit(1); }
const createMs = (job.kind === 'ocellus' ? 100 : 200) * job.threads;
console.log(JSON.stringify({ importMs: 10, createMs, firstRunMs: 5, peakRssMiB: 50 }));
