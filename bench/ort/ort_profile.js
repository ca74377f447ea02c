// Per-node minimum kernel times of ONNX Runtime over RUNS runs (its own
// profiler), and their sum: the counterpart of build/bench/step_min
// (bench/README.md), for a machine other processes share.
//   node bench/ort/ort_profile.js MODEL THREADS RUNS [BATCH]     (every node: V=1)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, t, r, b] = process.argv.slice(2);
  const threads = Number(t || 1), runs = Number(r || 20), batch = Number(b || 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ortprof-'));
  const s = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
    intraOpNumThreads: threads, interOpNumThreads: 1, enableProfiling: true,
    profileFilePrefix: path.join(dir, 'p')});
  const x = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
  const feeds = {[s.inputNames[0]]: new ort.Tensor('float32', x, [batch, 3, 224, 224])};
  let best = Infinity;
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 2 && ms < best) best = ms;
  }
  s.endProfiling();
  const file = fs.readdirSync(dir).map((f) => path.join(dir, f))[0];
  const events = JSON.parse(fs.readFileSync(file));
  fs.rmSync(dir, {recursive: true});
  const min = new Map(), op = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const k = e.name.slice(0, -'_kernel_time'.length);
    if (!min.has(k) || e.dur < min.get(k)) min.set(k, e.dur);
    op.set(k, e.args.op_name);
  }
  let sum = 0;
  for (const [k, us] of min) {
    sum += us;
    if (process.env.V) console.log(op.get(k).padEnd(18), k.padEnd(60), (us / 1e3).toFixed(3));
  }
  console.log(`${model}, ${threads} threads: sum of node minima ${(sum / 1e3).toFixed(3)} ms; ` +
              `best run ${best.toFixed(3)} ms (${runs} runs, profiling on)`);
}
main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
