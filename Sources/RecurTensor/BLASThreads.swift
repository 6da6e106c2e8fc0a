import CBLAS

/// Sets how many threads OpenBLAS uses for GEMM. One thread is fastest for the small per-step GEMMs
/// of recurrent layers (the recurrent GEMM of a batch-64 LSTM is ~64×256×64).
public func setBLASThreads(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
}
