'use strict';
// Shared pieces of run_model.js and bench.js: loading ONNX Runtime, session options, errors.

const path = require('path');

// Exit with a message a user can act on; `code` 2 is a usage error, 1 anything else.
function fail(tool, message, code = 1) {
  process.stderr.write(`${tool}: ${message}\n`);
  process.exit(code);
}

function loadOrt(tool) {
  try {
    return require('onnxruntime-node');
  } catch (err) {
    const dir = path.relative(process.cwd(), __dirname) || '.';
    fail(tool, `cannot load onnxruntime-node (${err.message.split('\n')[0]}); ` +
      `install it with: cd ${dir} && ONNXRUNTIME_NODE_INSTALL=skip npm ci`);
  }
  return null;
}

// One configuration for the oracle and the benchmark: CPU provider, every graph optimization,
// `threads` intra-op threads, one sequential inter-op lane (the model is a single chain).
// `optimization`: ONNX Runtime's graph optimization level (disabled | basic | extended | all).
function sessionOptions(threads, optimization = 'all') {
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: optimization,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  if (threads > 0) options.intraOpNumThreads = threads;
  return options;
}

function parsePositiveInt(tool, flag, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    fail(tool, `${flag} needs a positive integer, got '${text}'`, 2);
  }
  return value;
}

module.exports = { fail, loadOrt, sessionOptions, parsePositiveInt };
