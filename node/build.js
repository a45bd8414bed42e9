'use strict';
// Builds the Node.js addon (Note [Node frontend] in csrc/node/addon.cpp) into build/node/vt_node.node with
// the project's CMake (VT_NODE=ON). The configure step needs the Python environment the Python module is built
// with (nanobind, scipy-openblas32): VT_PY, else the checkout's .venv (scripts/setup_env.sh makes it).
// Node-API's headers: node's own (beside the node binary), else node-api-headers from the npm registry,
// installed into node/node_modules on the first run.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build', 'node');

function python() {
  if (process.env.VT_PY) return process.env.VT_PY;
  const venv = path.join(root, '.venv', 'bin', 'python');
  if (fs.existsSync(venv)) return venv;
  throw new Error('node/build.js: no Python environment: set VT_PY or run scripts/setup_env.sh (bash scripts/test.sh does)');
}

function napiInclude() {
  const own = path.resolve(process.execPath, '..', '..', 'include', 'node');
  if (fs.existsSync(path.join(own, 'node_api.h'))) return own;
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', 'node-api-headers'], { cwd: __dirname, stdio: 'inherit' });
  return path.join(path.dirname(require.resolve('node-api-headers/package.json', { paths: [__dirname] })), 'include');
}

function has(cmd) {
  try { execFileSync(cmd, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

function build() {
  const args = ['-S', root, '-B', buildDir, '-DVT_NODE=ON', `-DPython_EXECUTABLE=${python()}`,
    `-DVT_NODE_INCLUDE=${napiInclude()}`, `-DVT_CUDA=${process.env.VT_CUDA || 'auto'}`, '-DCMAKE_BUILD_TYPE=Release'];
  if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt')) && has('ninja')) args.push('-G', 'Ninja');
  execFileSync('cmake', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('cmake', ['--build', buildDir, '--target', 'vt_node', '-j', String(Math.max(1, os.cpus().length))],
    { stdio: 'inherit' });
  return path.join(buildDir, 'vt_node.node');
}

if (require.main === module) console.log(build());
module.exports = { build, buildDir };
