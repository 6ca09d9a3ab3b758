// Prints the include dirs, defines or link flags for libtorch, for binding.gyp.
// LIBTORCH (an unpacked pytorch.org build, CPU or CUDA) wins over Debian's libtorch-dev.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const what = process.argv[2];
const base = process.env.LIBTORCH;
if (what === 'defines') {
  // c10d's NCCL process group exists only in CUDA builds (native/dist.cc selects it by DQ_NCCL).
  const lib = base ? join(base, 'lib') : '/usr/lib/x86_64-linux-gnu';
  const header = join(base ? join(base, 'include') : '/usr/include', 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp');
  if (existsSync(join(lib, 'libtorch_cuda.so')) && existsSync(header)) console.log('DQ_NCCL USE_C10D_NCCL');
} else if (base) {
  const lib = join(base, 'lib');
  if (what === 'include') {
    console.log([join(base, 'include'), join(base, 'include/torch/csrc/api/include')].join(' '));
  } else {
    // --no-as-needed keeps the CUDA libraries linked so that their kernels register at load time.
    const cuda = ['torch_cuda', 'c10_cuda'].filter((n) => existsSync(join(lib, `lib${n}.so`)));
    console.log(
      [`-L${lib}`, `-Wl,-rpath,${lib}`, '-Wl,--no-as-needed', ...['torch', 'torch_cpu', 'c10', ...cuda].map((n) => `-l${n}`), '-Wl,--as-needed'].join(' '),
    );
  }
} else if (what === 'include') {
  console.log('/usr/include/torch/csrc/api/include');
} else {
  console.log('-ltorch -ltorch_cpu -lc10');
}
