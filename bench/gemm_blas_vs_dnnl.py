# OpenBLAS's sgemm against oneDNN's on the matrix shapes of a sparse layer (a few hundred to a few
# thousand rows, 32–256 channels), one thread, on the same arrays, alternating; both libraries as
# Debian's libtorch loads them. Why the sparse engine's float32 CPU convolutions call oneDNN's
# sgemm (native/sparse.cc, Mm; docs/engine.md, "oneDNN's GEMM"). One JSON object.
#
# Run: OMP_NUM_THREADS=1 /usr/bin/python3 bench/gemm_blas_vs_dnnl.py [--rounds 2]
import argparse, ctypes, json, time
import numpy as np

SHAPES = [(100, 64, 64), (300, 64, 64), (300, 128, 128), (700, 128, 128), (200, 256, 256), (700, 256, 256), (2000, 64, 64), (5000, 32, 32), (1000, 256, 256), (700, 2304, 256)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--openblas', default='/lib/x86_64-linux-gnu/libopenblas.so.0')
    ap.add_argument('--dnnl', default='/lib/x86_64-linux-gnu/libdnnl.so.2')
    a = ap.parse_args()
    ob, dn = ctypes.CDLL(a.openblas), ctypes.CDLL(a.dnnl)
    ob.openblas_set_num_threads(1)
    fp = ctypes.POINTER(ctypes.c_float)
    i64 = ctypes.c_int64
    ob.cblas_sgemm.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, fp, ctypes.c_int, fp, ctypes.c_int, ctypes.c_float, fp, ctypes.c_int]
    dn.dnnl_sgemm.argtypes = [ctypes.c_char, ctypes.c_char, i64, i64, i64, ctypes.c_float, fp, i64, fp, i64, ctypes.c_float, fp, i64]
    rows = []
    for M, K, N in SHAPES:
        A = np.random.rand(M, K).astype(np.float32)
        B = np.random.rand(K, N).astype(np.float32)
        C1, C2 = np.zeros((M, N), np.float32), np.zeros((M, N), np.float32)
        p = lambda x: x.ctypes.data_as(fp)
        # Row-major C = A·B in each library's own call.
        calls = {
            'openblas': lambda: ob.cblas_sgemm(101, 111, 111, M, N, K, 1.0, p(A), K, p(B), N, 0.0, p(C1), N),
            'dnnl': lambda: dn.dnnl_sgemm(b'N', b'N', M, N, K, 1.0, p(A), K, p(B), N, 0.0, p(C2), N),
        }
        reps = max(3, int(2e9 / (2 * M * N * K)))
        best = {}
        for _ in range(a.rounds):
            for name, f in calls.items():
                f()
                t = time.perf_counter()
                for _ in range(reps):
                    f()
                best[name] = min(best.get(name, float('inf')), (time.perf_counter() - t) / reps)
        if not np.allclose(C1, C2, rtol=1e-4, atol=1e-3):
            raise SystemExit(f'{M}x{K}x{N}: the two libraries disagree')
        gf = {k: round(2 * M * N * K / v / 1e9, 1) for k, v in best.items()}
        rows.append({'m': M, 'k': K, 'n': N, 'openblas_gflops': gf['openblas'], 'dnnl_gflops': gf['dnnl'], 'ratio': round(gf['dnnl'] / gf['openblas'], 2)})
    print(json.dumps({'bench': 'gemm-blas-vs-dnnl', 'threads': 1, 'rounds': a.rounds, 'shapes': rows}))


if __name__ == '__main__':
    main()
