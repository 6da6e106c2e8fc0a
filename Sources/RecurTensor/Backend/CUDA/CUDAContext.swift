import CRecurCUDA
import Foundation

/// One CUDA device as Recur's CUDA backend uses it: its primary context, one stream that every op is
/// queued on in program order (so memory freed by one op can be handed to the next without a
/// synchronisation), a cuBLAS and a cuDNN handle on that stream, and the kernels of
/// `cuda/*.cu` loaded from their committed PTX (`RecurCUDAKernels.c`).
final class CUDAContext: @unchecked Sendable {
    let ordinal: Int
    let context: recur_cu_context
    let stream: recur_cu_stream
    let cublas: recur_cublas_handle
    let cudnn: recur_cudnn_handle
    /// Kernels launched and waits for the device so far (for `recur bench`'s per-step counts).
    private(set) var launches = 0, synchronizations = 0
    private var modules: [recur_cu_module] = []
    private var functions: [String: recur_cu_function] = [:]
    private let lock = NSLock()

    /// Opens device `ordinal`: the probe has found the libraries; binds them, retains the device's primary
    /// context and creates the stream, the handles and the kernel modules. Throws with the first failure.
    init(ordinal: Int) throws {
        let devices: Int
        switch CUDAStatus.current {
        case .available(_, let count, _): devices = count
        case .unavailable(let reason): throw CUDAContext.unavailable(reason)
        }
        guard ordinal >= 0, ordinal < devices else { throw CUDAContext.unavailable("no CUDA device \(ordinal) (this machine has \(devices))") }
        var reason = [CChar](repeating: 0, count: 256)
        if recur_cuda_bind(&reason, reason.count) != 0 { throw CUDAContext.unavailable(text(reason)) }
        self.ordinal = ordinal
        var device: Int32 = 0
        try CUDAContext.check(recur_cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        var context: recur_cu_context?
        try CUDAContext.check(recur_cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        self.context = context!
        try CUDAContext.check(recur_cuCtxSetCurrent(context), "cuCtxSetCurrent")
        var stream: recur_cu_stream?
        try CUDAContext.check(recur_cuStreamCreate(&stream, 1 /* non-blocking */), "cuStreamCreate")
        self.stream = stream!
        var cublas: recur_cublas_handle?
        try CUDAContext.check(recur_cublasCreate_v2(&cublas), "cublasCreate")
        self.cublas = cublas!
        try CUDAContext.check(recur_cublasSetStream_v2(cublas, stream), "cublasSetStream")
        var cudnn: recur_cudnn_handle?
        try CUDAContext.check(recur_cudnnCreate(&cudnn), "cudnnCreate")
        self.cudnn = cudnn!
        try CUDAContext.check(recur_cudnnSetStream(cudnn, stream), "cudnnSetStream")
        for index in 0..<Int(recur_cuda_ptx_module_count) {
            let module = recur_cuda_ptx_modules![index]
            var loaded: recur_cu_module?
            var log = [CChar](repeating: 0, count: 4096)
            let status = log.withUnsafeMutableBytes { buffer -> Int32 in
                var options: [Int32] = [5 /* ERROR_LOG_BUFFER */, 6 /* ERROR_LOG_BUFFER_SIZE_BYTES */]
                var values: [UnsafeMutableRawPointer?] = [buffer.baseAddress, UnsafeMutableRawPointer(bitPattern: buffer.count)]
                return recur_cuModuleLoadDataEx(&loaded, module.ptx, 2, &options, &values)
            }
            guard status == 0, let loaded else {
                throw CUDAContext.unavailable("the kernels '\(String(cString: module.name))' do not load (error \(status)): \(text(log))")
            }
            modules.append(loaded)
        }
    }

    /// Makes this device's context the calling thread's (contexts are per host thread).
    func makeCurrent() { _ = recur_cuCtxSetCurrent(context) }

    /// The kernel `name` of the loaded modules.
    func function(_ name: String) -> recur_cu_function {
        lock.lock(); defer { lock.unlock() }
        if let f = functions[name] { return f }
        for module in modules {
            var f: recur_cu_function?
            if recur_cuModuleGetFunction(&f, module, name) == 0, let f {
                functions[name] = f
                return f
            }
        }
        fatalError("Recur's CUDA kernels have no '\(name)' (regenerate them with scripts/build-ptx.sh)")
    }

    /// Launches kernel `name` with its arguments: over `total` elements with a grid stride (element
    /// kernels), or one block of 256 threads per output for `outputs` (reduce kernels).
    func launch(_ name: String, total: Int, reduceOver outputs: Int? = nil, _ arguments: [CUDAArgument]) {
        let work = outputs ?? (total + 255) / 256
        guard work > 0 else { return }
        let blocks = UInt32(Swift.min(work, 4096))
        var storage = arguments.map { $0.bytes }
        let status = storage.withUnsafeMutableBufferPointer { values -> Int32 in
            let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: values.count)
            defer { pointers.deallocate() }
            return withArgumentPointers(values, 0, pointers) {
                recur_cuda_launch(function(name), blocks, 256, stream, pointers)
            }
        }
        CUDAContext.require(status, "launch of \(name)")
        launches += 1
    }

    /// Waits for every queued op.
    func synchronize() throws {
        synchronizations += 1
        try CUDAContext.check(recur_cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    static func unavailable(_ reason: String) -> RecurError { .unsupported(op: "CUDA", message: reason) }

    /// Throws for a nonzero status of a CUDA, cuBLAS or cuDNN call.
    static func check(_ status: Int32, _ call: String) throws {
        guard status != 0 else { return }
        throw RecurError.unsupported(op: "CUDA", message: "\(call) failed with status \(status)\(cudnnDetail(call))")
    }

    /// For ops that cannot throw (the `Backend` protocol's): a failed call stops the program with the
    /// call's name and status — the device is in an unknown state.
    static func require(_ status: Int32, _ call: String) {
        if status != 0 { fatalError("CUDA: \(call) failed with status \(status)\(cudnnDetail(call))") }
    }

    private static func cudnnDetail(_ call: String) -> String {
        guard call.hasPrefix("cudnn") else { return "" }
        var message = [CChar](repeating: 0, count: 512)
        _ = recur_cudnnGetLastErrorString(&message, message.count)
        let detail = text(message)
        return detail.isEmpty ? "" : " (\(detail))"
    }
}

/// The text of a NUL-terminated C buffer.
func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// One argument of a kernel launch, by value.
enum CUDAArgument {
    case pointer(recur_devptr)
    case int(Int)
    case float(Float)
    /// A struct of 32-bit integers (`Broadcast`, `Permutation` in cuda/tensor.cu).
    case ints([Int32])

    var bytes: [UInt8] {
        switch self {
        case .pointer(let p): withUnsafeBytes(of: p) { Array($0) }
        case .int(let v): withUnsafeBytes(of: Int32(v)) { Array($0) }
        case .float(let v): withUnsafeBytes(of: v) { Array($0) }
        case .ints(let values): values.withUnsafeBytes { Array($0) }
        }
    }
}

/// Calls `body` with `pointers[i]` addressing `values[i]`'s bytes (kept alive meanwhile).
private func withArgumentPointers<R>(_ values: UnsafeMutableBufferPointer<[UInt8]>, _ index: Int,
                                     _ pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ body: () -> R) -> R {
    guard index < values.count else { return body() }
    return values[index].withUnsafeMutableBytes { bytes in
        pointers[index] = bytes.baseAddress
        return withArgumentPointers(values, index + 1, pointers, body)
    }
}
