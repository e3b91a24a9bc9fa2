#!/usr/bin/env node
'use strict';
// Time ONNX Runtime (CPU) on a model: the benchmark peer for inferd.
// Usage: node bench.js MODEL.onnx [--batch 1,8,32] [--threads 2] [--iters K] [--warmup W]
//                      [--min-time-s 2] [--min-iters 10] [--seed S]
// Per batch size: a fresh session (its creation is timed), W warm-up runs, then K timed runs,
// or without --iters as many as it takes to reach both --min-time-s and --min-iters.
// Prints one JSON line per batch size.

const path = require('path');
const { fail, loadOrt, sessionOptions, parsePositiveInt } = require('./common');

const TOOL = 'bench';
const USAGE = 'usage: node bench.js MODEL.onnx [--batch 1,8,32] [--threads 2] [--iters K] ' +
  '[--warmup W] [--min-time-s S] [--min-iters M] [--seed S]';

function parseArgs(argv) {
  const args = { batches: [1], threads: 2, iters: 0, warmup: 3, minTimeS: 2, minIters: 10, seed: 1 };
  const positional = [];
  const value = (i) => {
    if (i + 1 >= argv.length) fail(TOOL, `${argv[i]} needs a value\n${USAGE}`, 2);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; ++i) {
    const flag = argv[i];
    if (flag === '-h' || flag === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (flag === '--batch') {
      args.batches = value(i).split(',').map((b) => parsePositiveInt(TOOL, flag, b)); ++i;
    } else if (flag === '--threads') {
      args.threads = parsePositiveInt(TOOL, flag, value(i)); ++i;
    } else if (flag === '--iters') {
      args.iters = parsePositiveInt(TOOL, flag, value(i)); ++i;
    } else if (flag === '--warmup') {
      const w = Number(value(i)); ++i;
      if (!Number.isInteger(w) || w < 0) fail(TOOL, `--warmup needs an integer >= 0, got '${argv[i]}'`, 2);
      args.warmup = w;
    } else if (flag === '--min-time-s') {
      args.minTimeS = Number(value(i)); ++i;
      if (!(args.minTimeS >= 0)) fail(TOOL, `--min-time-s needs a number >= 0, got '${argv[i]}'`, 2);
    } else if (flag === '--min-iters') {
      args.minIters = parsePositiveInt(TOOL, flag, value(i)); ++i;
    } else if (flag === '--seed') {
      args.seed = parsePositiveInt(TOOL, flag, value(i)); ++i;
    } else if (flag.startsWith('--')) {
      fail(TOOL, `unknown option '${flag}'\n${USAGE}`, 2);
    } else {
      positional.push(flag);
    }
  }
  if (positional.length !== 1) fail(TOOL, `expected one MODEL.onnx argument\n${USAGE}`, 2);
  [args.model] = positional;
  return args;
}

// mulberry32: a tiny seeded PRNG, so every run and every tool sees the same input.
function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Uniform in [-1, 1) with exact zeros replaced: unit-scale data, never all zeros.
function randomInput(count, seed) {
  const rng = makeRng(seed);
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = 2 * rng() - 1 || 0.5;
  return data;
}

// Input dims for batch `b`: the model's own dims with the first (batch) one replaced.
function inputDims(session, model, b) {
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (!meta || !Array.isArray(meta.shape) || meta.shape.length < 2) {
    fail(TOOL, `${model}: cannot read the input shape from the model`);
  }
  const rest = meta.shape.slice(1);
  if (!rest.every((d) => typeof d === 'number' && d > 0)) {
    fail(TOOL, `${model}: input '${meta.name}' shape [${meta.shape.join(',')}] has a symbolic ` +
      'dimension besides the batch; only the batch may be dynamic');
  }
  return [b, ...rest];
}

function percentile(sorted, q) {
  // Nearest-rank percentile on sorted samples.
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function benchBatch(ort, args, batch) {
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, sessionOptions(args.threads));
  const createMs = msSince(t0);
  if (session.inputNames.length !== 1) fail(TOOL, `${args.model}: expected one graph input`);
  const dims = inputDims(session, args.model, batch);
  const count = dims.reduce((a, b) => a * b, 1);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', randomInput(count, args.seed), dims) };
  const fetches = [session.outputNames[0]];
  for (let i = 0; i < args.warmup; ++i) await session.run(feeds, fetches);
  const samples = [];
  const start = process.hrtime.bigint();
  for (;;) {
    const t = process.hrtime.bigint();
    await session.run(feeds, fetches);
    samples.push(msSince(t));
    if (args.iters > 0 ? samples.length >= args.iters
      : samples.length >= args.minIters && msSince(start) >= args.minTimeS * 1000) break;
  }
  await session.release();
  samples.sort((a, b) => a - b);
  const median = samples.length % 2 ? samples[(samples.length - 1) / 2]
    : (samples[samples.length / 2 - 1] + samples[samples.length / 2]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    model: path.basename(args.model, '.onnx'), batch, threads: args.threads,
    iters: samples.length, median_ms: round(median), p90_ms: round(percentile(samples, 0.9)),
    min_ms: round(samples[0]), images_per_s: round((batch * 1000) / median),
    session_create_ms: round(createMs),
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt(TOOL);
  for (const batch of args.batches) {
    let result;
    try {
      result = await benchBatch(ort, args, batch);
    } catch (err) {
      fail(TOOL, `${args.model} at batch ${batch}: ${err.message}`);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

main().catch((err) => fail(TOOL, err.stack || String(err)));
