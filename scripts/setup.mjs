#!/usr/bin/env node
// One idempotent setup step, run in front of `npm test`, `npm run study` and `npm run bench`:
//   1. libtorch: $LIBTORCH (a pytorch.org build, CPU or CUDA) or Debian's libtorch-dev with libgloo-dev (c10d);
//      installs Debian's package (and an optimised BLAS) when missing and we are root with apt.
//   2. npm packages, when node_modules is missing or older than package.json.
//   3. the native addon (node-gyp), when missing or older than native/*.
//   4. the TypeScript build (tsc, incremental).
//   4b. Debian's fonts-dejavu-core: the figures are drawn (resvg) and laid out (report/text-metrics.ts)
//      in DejaVu Sans.
//   5. with --test: Debian's chromium, which the report tests drive headless (playwright-core), and
//      python3-h5py / python3-torch for /usr/bin/python3, which the interop tests use as references
//      (h5py reads our HDF5 files; PyTorch checks ops, safetensors and the benchmark peer), and
//      pycocotools and tensorboard (not packaged by Debian) in a venv at build/pyref, the references
//      of the COCO metrics test and of the TensorBoard event-file test, installed by pip as this machine configures it (its wheel store on disk;
//      no other package index is reachable here).
// Uses only Node built-ins, so it runs on a fresh clone before `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (msg) => {
  if (!quiet) console.error(`[setup] ${msg}`);
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`[setup] failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}
function newest(dir, filter = () => true) {
  let t = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p, filter) : filter(p) ? mtime(p) : 0);
  }
  return t;
}

// --- 1. libtorch ----------------------------------------------------------------------------
function systemLibtorch() {
  return existsSync('/usr/include/torch/csrc/api/include/torch/torch.h');
}
function openblasPresent() {
  const r = spawnSync('sh', ['-c', 'ls /usr/lib/*/openblas-pthread/libblas.so.3 2>/dev/null'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}
function ensureLibtorch() {
  if (process.env.LIBTORCH) {
    if (!existsSync(join(process.env.LIBTORCH, 'include', 'torch', 'csrc', 'api', 'include', 'torch', 'torch.h'))) {
      console.error(`[setup] LIBTORCH=${process.env.LIBTORCH} does not hold a libtorch build (no include/torch/csrc/api/include/torch/torch.h).`);
      process.exit(1);
    }
    return;
  }
  const wanted = [];
  if (!systemLibtorch()) wanted.push('libtorch-dev');
  // c10d's ProcessGroupGloo.hpp (native/dist.cc) includes gloo's headers, packaged apart.
  if (!existsSync('/usr/include/gloo/config.h')) wanted.push('libgloo-dev');
  if (!openblasPresent()) wanted.push('libopenblas0-pthread');
  if (wanted.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!isRoot || !hasApt) {
    if (wanted.includes('libtorch-dev')) {
      console.error(
        "[setup] libtorch is missing: install Debian's libtorch-dev (`sudo apt-get install libtorch-dev libgloo-dev libopenblas0-pthread`) or set LIBTORCH to an unpacked libtorch build.",
      );
      process.exit(1);
    }
    log('libopenblas0-pthread is missing: matrix products will use the slow reference BLAS.');
    return;
  }
  log(`installing ${wanted.join(' ')} with apt-get`);
  aptGetInstall(wanted);
}

// apt-get install, able to finish what an earlier, killed install left behind: apt refuses every
// install while dpkg's journal holds an interrupted run ("dpkg was interrupted, you must manually run
// 'dpkg --configure -a'") or while unpacked packages miss dependencies ("apt --fix-broken install").
// Both are what apt itself asks for, so setup runs them (root only, as for the install) and tries again;
// it waits up to 10 minutes for a dpkg lock that another apt holds instead of failing at once.
function aptGetInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  run('apt-get', [...lockWait, 'update', '-qq'], { env });
  const repairs = [
    { sign: /dpkg --configure -a/, what: 'dpkg was interrupted earlier', cmd: 'dpkg', args: ['--configure', '-a'] },
    { sign: /--fix-broken|-f install/, what: 'unpacked packages miss dependencies', cmd: 'apt-get', args: [...lockWait, 'install', '-f', '-y', '-qq'] },
  ];
  const done = new Set();
  for (;;) {
    const args = [...lockWait, 'install', '-y', '-qq', '--no-install-recommends', ...packages];
    const r = spawnSync('apt-get', args, { cwd: root, env, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    process.stderr.write(r.stderr ?? '');
    if (r.status === 0) return;
    const repair = repairs.find((x) => !done.has(x) && x.sign.test(r.stderr ?? ''));
    if (!repair) {
      console.error(`[setup] failed: apt-get ${args.join(' ')} (exit ${r.status ?? r.signal})`);
      process.exit(r.status ?? 1);
    }
    done.add(repair);
    log(`${repair.what}: running \`${repair.cmd} ${repair.args.filter((a) => !lockWait.includes(a)).join(' ')}\` as apt asks, then installing again`);
    run(repair.cmd, repair.args, { env });
  }
}

// --- 2. npm packages ------------------------------------------------------------------------
function ensureNodeModules() {
  const stamp = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(stamp) && mtime(stamp) >= mtime(join(root, 'package.json'))) return;
  log('installing npm packages');
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund', '--ignore-scripts']);
}

// --- 3. native addon ------------------------------------------------------------------------
function ensureNative() {
  const addon = join(root, 'build', 'Release', 'daqyolo_torch.node');
  const src = Math.max(newest(join(root, 'native')), mtime(join(root, 'binding.gyp')));
  if (existsSync(addon) && mtime(addon) >= src) return;
  log('building the native libtorch addon (a few minutes the first time)');
  const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const jobs = String(Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 2));
  // Build against the headers of the running Node when they are installed beside it (no download).
  const nodeDir = join(dirname(process.execPath), '..');
  const local = existsSync(join(nodeDir, 'include', 'node', 'common.gypi')) ? [`--nodedir=${nodeDir}`] : [];
  run(process.execPath, [gyp, existsSync(join(root, 'build', 'Makefile')) ? 'build' : 'rebuild', '-j', jobs, ...local]);
}

// --- 4. TypeScript --------------------------------------------------------------------------
function ensureTypeScript() {
  const stamp = join(root, 'dist', '.tsbuildinfo');
  const isTs = (p) => p.endsWith('.ts');
  const src = Math.max(
    newest(join(root, 'src'), isTs),
    newest(join(root, 'test'), isTs),
    newest(join(root, 'bench'), isTs),
    mtime(join(root, 'tsconfig.json')),
  );
  if (existsSync(stamp) && mtime(stamp) >= src) return;
  log('compiling TypeScript');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    // tsc writes its build info even when it reports errors: without this, the next setup would find
    // the stamp newer than the sources and skip the compile, leaving dist/ stale without a word.
    rmSync(stamp, { force: true });
    console.error(`[setup] failed: tsc -p tsconfig.json (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

// --- 5. what the tests use: chromium and Debian's Python references -------------------------
function aptInstall(packages, why) {
  if (packages.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!isRoot || !hasApt) {
    console.error(`[setup] ${why} need Debian's ${packages.join(' ')}: \`sudo apt-get install ${packages.join(' ')}\`.`);
    process.exit(1);
  }
  log(`installing ${packages.join(' ')} with apt-get (${why})`);
  aptGetInstall(packages);
}
// A Python module counts as present only when Debian's interpreter imports it (the python3 on
// PATH may be another interpreter, without Debian's packages).
function pythonHas(module) {
  return existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}
const PYREF = join(root, 'build', 'pyref', 'bin', 'python');
function ensureTestTools() {
  const wanted = [];
  if (!existsSync('/usr/bin/chromium')) wanted.push('chromium');
  if (!pythonHas('h5py')) wanted.push('python3-h5py');
  if (!pythonHas('torch')) wanted.push('python3-torch');
  if (!pythonHas('numpy')) wanted.push('python3-numpy');
  if (!pythonHas('ensurepip')) wanted.push('python3-venv');
  aptInstall(wanted, 'the report and interop tests');
  // A venv over Debian's Python (numpy from Debian); pip finds the wheels through the machine's pip
  // configuration (the on-disk store); no retries against unreachable indexes. pip runs as
  // `python -m pip` of this venv (a venv copied from another checkout keeps that one's bin/pip).
  const has = (module) => existsSync(PYREF) && spawnSync(PYREF, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
  const pipInstall = (module, spec, why) => {
    if (has(module)) return;
    log(`installing ${spec} into build/pyref (${why})`);
    if (!existsSync(PYREF)) run('/usr/bin/python3', ['-m', 'venv', '--system-site-packages', join(root, 'build', 'pyref')]);
    run(PYREF, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--retries', '0', '--timeout', '10', spec]);
    if (!has(module)) {
      console.error(`[setup] ${module} did not import after installing ${spec} into build/pyref (pip could not find it: ${why})`);
      process.exit(1);
    }
  };
  pipInstall('pycocotools.cocoeval', 'pycocotools==2.0.11', 'the COCO metrics test compares with it');
  pipInstall(
    'tensorboard.backend.event_processing.event_accumulator',
    'tensorboard==2.21.0',
    "the TensorBoard test reads train's event files with its EventAccumulator",
  );
}

// --- 4b. the figures' font --------------------------------------------------------------------
function ensureFigureFont() {
  if (!existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')) aptInstall(['fonts-dejavu-core'], 'the figures (drawn and laid out in DejaVu Sans)');
}

ensureLibtorch();
ensureNodeModules();
ensureNative();
ensureTypeScript();
ensureFigureFont();
if (process.argv.includes('--test')) ensureTestTools();
