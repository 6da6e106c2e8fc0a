import CBLAS
import CRecurKernels

/// Sets how many threads OpenBLAS uses for GEMM. One thread is fastest for the small per-step GEMMs
/// of recurrent layers (the recurrent GEMM of a batch-64 LSTM is ~64×256×64); every core is fastest
/// for large one-off work (the orthogonal initializer's factorisation). Call it only while no other
/// thread is inside OpenBLAS: OpenBLAS 0.3.21 can deadlock otherwise.
public func setBLASThreads(_ count: Int) {
    BLASSetup.ready
    openblas_set_num_threads(Int32(max(1, count)))
}

/// OpenBLAS runs one thread per call unless `setBLASThreads` says otherwise: Recur splits work across
/// its own threads, and OpenBLAS 0.3.21 deadlocks when several threads make threaded calls at once
/// (seen in the parallel tests: two orthogonal initialisations, each in a threaded LAPACK call).
/// Every OpenBLAS call reads `ready` first, so the setting is made once, before any call — together with
/// the choice of OpenBLAS's AVX-512 or AVX2 kernels on CPUs that OpenBLAS 0.3.21 does not know
/// (`recur_blas_select_core`; `OPENBLAS_CORETYPE` overrides it).
enum BLASSetup {
    static let ready: Void = {
        _ = recur_blas_select_core()
        openblas_set_num_threads(1)
    }()

    /// The OpenBLAS kernels in use (`Haswell`, `SkylakeX`, ...).
    static var coreName: String {
        ready
        return String(cString: openblas_get_corename())
    }
}

/// The CPUs this process may run on (its affinity mask).
public var usableCPUCount: Int { Int(recur_usable_cpu_count()) }

/// The OpenBLAS kernels in use (`SkylakeX`, `Haswell`, ...), as benchmarks report them.
public var blasKernelName: String { BLASSetup.coreName }
