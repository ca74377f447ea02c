// Float32 .npy files (NumPy format 1.0, '<f4', C order): what convkit run
// reads and writes. Used by ort_serve.js and ort_run.js.
'use strict';
const fs = require('fs');

function read(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(path + ': not a .npy file');
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = b.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(path + ': not a C-order float32 array');
  const dims = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const n = dims.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  Buffer.from(data.buffer).set(b.subarray(start, start + 4 * n));
  return {dims, data};
}

function write(path, dims, data) {
  let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.join(', ') +
      (dims.length === 1 ? ',' : '') + '), }';
  const pad = 64 - ((10 + h.length + 1) % 64);
  h += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

module.exports = {read, write};
