// ONNX Runtime side of bench/bench.c (bench/README.md): a child process that
// the harness drives over a pipe, one command per line on stdin, one line
// back per command, so that its runs interleave with convkit's.
//
//   version                     -> "ok VERSION" (the onnxruntime-node package)
//   load MODEL THREADS N C H W  InferenceSession.create with every graph
//                               optimisation, sequential execution, THREADS
//                               intra-op threads, 1 inter-op; a seeded
//                               input of N x C x H x W; one untimed run
//                               -> "ok CREATE_MS"
//   create MODEL THREADS        session creation alone, timed, the session
//                               dropped -> "ok MS"
//   time                        one timed run of the loaded session -> "ok MS"
//   forward IN.npy OUT.npy      one run on IN, output to OUT -> "ok"
//   quit
'use strict';
const ort = require('onnxruntime-node');
const npy = require('./npy');
const readline = require('readline');

const VERSION = require('onnxruntime-node/package.json').version;
let sess = null, feeds = null, inName = null;

function options(threads) {
  return {executionProviders: ['cpu'], graphOptimizationLevel: 'all',
    executionMode: 'sequential', intraOpNumThreads: threads, interOpNumThreads: 1};
}

function seeded(n) { // xorshift32 -> uniform [-1, 1)
  const a = new Float32Array(n);
  let s = 2463534242;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function command(line) {
  const a = line.trim().split(/\s+/);
  switch (a[0]) {
  case 'version':
    return VERSION;
  case 'load': {
    sess = null;
    const t0 = process.hrtime.bigint();
    sess = await ort.InferenceSession.create(a[1], options(Number(a[2])));
    const t = ms(t0);
    const dims = a.slice(3, 7).map(Number);
    inName = sess.inputNames[0];
    feeds = {[inName]: new ort.Tensor('float32', seeded(dims.reduce((x, d) => x * d, 1)), dims)};
    await sess.run(feeds);
    return t.toFixed(6);
  }
  case 'create': {
    const t0 = process.hrtime.bigint();
    let s = await ort.InferenceSession.create(a[1], options(Number(a[2])));
    const t = ms(t0);
    await s.release();
    s = null;
    return t.toFixed(6);
  }
  case 'time': {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds);
    return ms(t0).toFixed(6);
  }
  case 'forward': {
    const x = npy.read(a[1]);
    const r = await sess.run({[inName]: new ort.Tensor('float32', x.data, x.dims)});
    const y = r[sess.outputNames[0]];
    npy.write(a[2], y.dims, y.data);
    return '';
  }
  default:
    throw new Error('unknown command ' + a[0]);
  }
}

async function main() {
  const rl = readline.createInterface({input: process.stdin, terminal: false});
  for await (const line of rl) {
    if (line.trim() === 'quit') break;
    try {
      const r = await command(line);
      process.stdout.write(r === '' ? 'ok\n' : 'ok ' + r + '\n');
    } catch (e) {
      process.stdout.write('error ' + String(e && e.message || e).replace(/\n/g, ' ') + '\n');
    }
  }
  process.exit(0);
}
main();
