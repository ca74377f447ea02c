// The minimal ONNX Runtime script that `convkit run MODEL --input x.npy -o
// y.npy --threads T` is compared with as a whole process (bench/README.md):
//   node bench/ort/ort_run.js MODEL x.npy y.npy T
// load + session (all graph optimisations, sequential, T intra-op threads,
// 1 inter-op), one run, the output written.
'use strict';
const ort = require('onnxruntime-node');
const npy = require('./npy');

async function main() {
  const [model, xin, yout, t] = process.argv.slice(2);
  const threads = Number(t || 1);
  const s = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
    intraOpNumThreads: threads, interOpNumThreads: 1});
  const x = npy.read(xin);
  const r = await s.run({[s.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims)});
  const y = r[s.outputNames[0]];
  npy.write(yout, y.dims, y.data);
}
main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
