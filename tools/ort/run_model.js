#!/usr/bin/env node
'use strict';
// Run one ONNX model on the CPU with ONNX Runtime: the test oracle for inferd.
// Usage: node run_model.js MODEL.onnx INPUT.bin N,C,H,W OUTPUT.bin [--threads k] [--optimization L]
// INPUT.bin holds N*C*H*W little-endian float32 values (a whole batch, NCHW); the model's
// first output is written to OUTPUT.bin as raw little-endian float32, and one JSON line
// {"output":NAME,"shape":[...]} goes to stdout. --optimization: the graph optimization level
// (disabled | basic | extended | all, default all). ONNX Runtime 1.30's extended level breaks
// FP8 Q/DQ models (its Q/DQ propagation moves a float8 tensor in front of MaxPool, which
// then fails the type check): the tests run those unoptimized.

const fs = require('fs');
const os = require('os');
const { fail, loadOrt, sessionOptions, parsePositiveInt } = require('./common');

const TOOL = 'run_model';
const USAGE = 'usage: node run_model.js MODEL.onnx INPUT.bin N,C,H,W OUTPUT.bin [--threads k] [--optimization L]';
const LEVELS = ['disabled', 'basic', 'extended', 'all'];

function parseArgs(argv) {
  const positional = [];
  let threads = 0; // 0: ONNX Runtime's default (one per physical core)
  let optimization = 'all';
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--threads') {
      if (i + 1 >= argv.length) fail(TOOL, `--threads needs a value\n${USAGE}`, 2);
      threads = parsePositiveInt(TOOL, '--threads', argv[++i]);
    } else if (argv[i] === '--optimization') {
      optimization = argv[++i];
      if (!LEVELS.includes(optimization)) fail(TOOL, `--optimization is one of ${LEVELS.join(', ')}\n${USAGE}`, 2);
    } else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (argv[i].startsWith('--')) {
      fail(TOOL, `unknown option '${argv[i]}'\n${USAGE}`, 2);
    } else {
      positional.push(argv[i]);
    }
  }
  if (positional.length !== 4) fail(TOOL, `expected 4 arguments, got ${positional.length}\n${USAGE}`, 2);
  const [model, input, shapeText, output] = positional;
  const shape = shapeText.split(',').map((d) => parsePositiveInt(TOOL, 'shape', d));
  return {model, input, shape, output, threads, optimization};
}

// Reads raw float32 LE into an aligned Float32Array (Buffer offsets need not be 4-aligned).
function readFloats(file, shape) {
  const count = shape.reduce((a, b) => a * b, 1);
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    fail(TOOL, `cannot read input '${file}': ${err.message}`);
  }
  if (bytes.length !== count * 4) {
    fail(TOOL, `input '${file}' has ${bytes.length} bytes, but shape ${shape.join('x')} needs ` +
      `${count} float32 = ${count * 4} bytes`);
  }
  const data = new Float32Array(count);
  if (os.endianness() === 'LE') {
    new Uint8Array(data.buffer).set(bytes);
  } else {
    for (let i = 0; i < count; ++i) data[i] = bytes.readFloatLE(i * 4);
  }
  return data;
}

function checkShape(meta, shape, model) {
  if (!meta || !meta.isTensor || !Array.isArray(meta.shape)) return;
  const expected = meta.shape;
  const fits = expected.length === shape.length &&
    expected.every((d, i) => typeof d !== 'number' || d <= 0 || d === shape[i]);
  if (!fits) {
    fail(TOOL, `${model}: input '${meta.name}' has shape [${expected.join(',')}], ` +
      `which does not accept [${shape.join(',')}]`);
  }
  if (meta.type !== 'float32') fail(TOOL, `${model}: input '${meta.name}' is ${meta.type}, not float32`);
}

function writeFloats(file, tensor, name) {
  if (tensor.type !== 'float32') fail(TOOL, `output '${name}' is ${tensor.type}, not float32`);
  const data = tensor.data;
  let bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (os.endianness() !== 'LE') {
    bytes = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  }
  try {
    fs.writeFileSync(file, bytes);
  } catch (err) {
    fail(TOOL, `cannot write output '${file}': ${err.message}`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt(TOOL);
  const data = readFloats(args.input, args.shape);
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, sessionOptions(args.threads, args.optimization));
  } catch (err) {
    fail(TOOL, `cannot load model '${args.model}': ${err.message}`);
  }
  if (session.inputNames.length !== 1) {
    fail(TOOL, `${args.model}: expected one graph input, found ${session.inputNames.length} ` +
      `(${session.inputNames.join(', ')})`);
  }
  const inputName = session.inputNames[0];
  checkShape(session.inputMetadata && session.inputMetadata[0], args.shape, args.model);
  const outputName = session.outputNames[0];
  let results;
  try {
    results = await session.run({ [inputName]: new ort.Tensor('float32', data, args.shape) },
      [outputName]);
  } catch (err) {
    fail(TOOL, `${args.model}: inference failed: ${err.message}`);
  }
  const out = results[outputName];
  writeFloats(args.output, out, outputName);
  process.stdout.write(`${JSON.stringify({ output: outputName, shape: out.dims.map(Number) })}\n`);
  await session.release();
}

main().catch((err) => fail(TOOL, err.stack || String(err)));
