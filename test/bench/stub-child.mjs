// A stand-in for bench/child.ts in the watchdog tests (test/bench/child.test.ts): loads at once; asked to time,
// it either never answers and never speaks ('silent'), or sends a progress line every 100 ms for `runs` × 100 ms and
// then answers ('chatty'). How it behaves comes from the job's engine kind.
let kind;
process.on('message', m => {
  if (m.model) { kind = m.engine.kind; process.send({ type: 'loaded', loadMs: 1 }); return; }
  if (m.type !== 'time' || kind === 'silent') return;
  let n = 0;
  const tick = setInterval(() => {
    if (++n <= m.runs) { process.send({ type: 'progress', text: `run ${n}/${m.runs}`, transient: true }); return; }
    clearInterval(tick);
    process.send({ type: 'samples', batch: m.batch, samplesMs: Array.from({ length: m.runs }, () => 100) });
  }, 100);
});
