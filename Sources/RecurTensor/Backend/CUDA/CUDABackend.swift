import CRecurCUDA
import Foundation

/// The backend of an NVIDIA GPU (`Device.cuda(_:)`): tensors live in device memory between ops, every op
/// is queued on one stream — GEMMs on cuBLAS, recurrences on cuDNN's RNN, everything else on the kernels
/// of `cuda/*.cu` — and only `download` (`Tensor.to(.cpu)`, reading scalars) waits for the device.
///
/// NVIDIA's libraries are found at run time (`CUDAStatus`); `CUDABackend.shared(ordinal:)` opens the
/// device and registers its backend, or throws the one-line reason why it cannot.
public final class CUDABackend: Backend, @unchecked Sendable {
    public let device: Device
    let context: CUDAContext
    let pool = CUDAMemoryPool()
    /// cuDNN RNN configurations by (kind, inputs, units), and the "no dropout" descriptor they share.
    private var rnnConfigurations: [String: CuDNNRNN] = [:]
    private var dropout: recur_cudnn_dropout_desc?

    nonisolated(unsafe) private static var opened: [Int: CUDABackend] = [:]
    private static let lock = NSLock()

    /// The backend of CUDA device `ordinal`, opened and registered on first use. Throws why the device
    /// cannot be used (no driver, no device, no cuDNN 9, a kernel that does not load).
    public static func shared(ordinal: Int = 0) throws -> CUDABackend {
        lock.lock(); defer { lock.unlock() }
        if let backend = opened[ordinal] { return backend }
        let backend = try CUDABackend(context: CUDAContext(ordinal: ordinal))
        opened[ordinal] = backend
        Backends.register(backend)
        return backend
    }

    private init(context: CUDAContext) {
        self.context = context
        self.device = .cuda(context.ordinal)
    }

    /// The cuDNN configuration of `kind` with `inputs` features and `units` units, made once.
    func rnn(_ kind: RecurrenceKind, inputs: Int, units: Int) throws -> CuDNNRNN {
        let key = "\(kind) \(inputs) \(units)"
        if let made = rnnConfigurations[key] { return made }
        let made = try CuDNNRNN(self, kind: kind, inputs: inputs, units: units)
        rnnConfigurations[key] = made
        return made
    }

    /// cuDNN's descriptor of no dropout (the RNN descriptor needs one).
    func noDropout() throws -> recur_cudnn_dropout_desc {
        if let dropout { return dropout }
        var d: recur_cudnn_dropout_desc?
        try CUDAContext.check(recur_cudnnCreateDropoutDescriptor(&d), "cudnnCreateDropoutDescriptor")
        try CUDAContext.check(recur_cudnnSetDropoutDescriptor(d, context.cudnn, 0, nil, 0, 0), "cudnnSetDropoutDescriptor")
        dropout = d
        return d!
    }

    /// Kernels launched (Recur's own, not cuBLAS's or cuDNN's) and waits for the device so far.
    public var counts: (launches: Int, synchronizations: Int) { (context.launches, context.synchronizations) }

    /// Waits until every op queued so far has run (for timing).
    public func synchronize() throws { try context.synchronize() }

    // MARK: Memory

    /// A tensor of this device with uninitialised scalars.
    func make(_ shape: [Int]) -> Tensor {
        context.makeCurrent()
        return try! Tensor(shape: shape, memory: CUDAMemory(device: device, count: shape.reduce(1, *), pool: pool))
    }

    /// The device memory of `x`.
    func memory(_ x: Tensor) -> CUDAMemory {
        guard let memory = x.memory as? CUDAMemory, memory.device == device else {
            preconditionFailure("the backend of \(device) was given a tensor of \(x.device)")
        }
        return memory
    }

    /// The device address of `x`'s scalars.
    func address(_ x: Tensor) -> recur_devptr { memory(x).address }

    /// A device copy of host integers (row indices, sequence lengths), as 32-bit integers.
    func deviceIntegers(_ values: [Int32]) -> Tensor {
        let t = make([values.count])
        if !values.isEmpty {
            CUDAContext.require(recur_cuMemcpyHtoDAsync_v2(address(t), values, values.count * 4, context.stream), "cuMemcpyHtoD")
        }
        return t
    }

    public func upload(_ host: Tensor) throws -> Tensor {
        let t = make(host.shape)
        if host.count > 0 {
            try CUDAContext.check(recur_cuMemcpyHtoDAsync_v2(address(t), host.base, host.count * 4, context.stream), "cuMemcpyHtoD")
        }
        return t
    }

    public func download(_ x: Tensor) throws -> Tensor {
        context.makeCurrent()
        let host = Tensor(uninitializedShape: x.shape)
        if x.count > 0 {
            try CUDAContext.check(recur_cuMemcpyDtoHAsync_v2(host.base, address(x), x.count * 4, context.stream), "cuMemcpyDtoH")
        }
        try context.synchronize()
        return host
    }

    /// A device copy of `x`.
    func copy(_ x: Tensor) -> Tensor {
        let t = make(x.shape)
        if x.count > 0 { CUDAContext.require(recur_cuMemcpyDtoDAsync_v2(address(t), address(x), x.count * 4, context.stream), "cuMemcpyDtoD") }
        return t
    }

    public func filled(_ value: Float, shape: [Int]) -> Tensor {
        let t = make(shape)
        context.launch("recur_fill", total: t.count, [.pointer(address(t)), .float(value), .int(t.count)])
        return t
    }

    // MARK: Elementwise

    public func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let code: Int = switch op {
        case .exp: 0
        case .log: 1
        case .tanh: 2
        case .sigmoid: 3
        case .relu: 4
        case .sqrt: 5
        case .abs: 6
        case .sign: 7
        }
        let y = make(x.shape)
        context.launch("recur_unary", total: x.count, [.int(code), .pointer(address(x)), .pointer(address(y)), .int(x.count)])
        return y
    }

    public func unaryGradient(_ op: UnaryOp, input: Tensor, output: Tensor, gradient: Tensor) -> Tensor {
        let code: Int = switch op {
        case .tanh: 0
        case .sigmoid: 1
        case .relu: 2
        default: preconditionFailure("unaryGradient has no kernel for \(op); its gradient is written with tensor ops")
        }
        let dx = make(gradient.shape)
        context.launch("recur_unary_backward", total: dx.count, [.int(code), .pointer(address(input)), .pointer(address(output)),
                                                                 .pointer(address(gradient)), .pointer(address(dx)), .int(dx.count)])
        return dx
    }

    public func scaled(_ x: Tensor, by alpha: Float) -> Tensor {
        let y = make(x.shape)
        context.launch("recur_scale", total: x.count, [.pointer(address(x)), .float(alpha), .pointer(address(y)), .int(x.count)])
        return y
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
        let code: Int = switch op {
        case .add: 0
        case .subtract: 1
        case .multiply: 2
        case .divide: 3
        case .maximum: 4
        case .minimum: 5
        case .greater: 6
        case .greaterEqual: 7
        case .less: 8
        case .equal: 9
        case .notEqual: 10
        }
        let y = make(shape)
        let layout = CUDABackend.smallIntegers([shape.count], shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape))
        context.launch("recur_binary", total: y.count, [.int(code), .pointer(address(a)), .pointer(address(b)), .pointer(address(y)),
                                                        .int(y.count), .ints(layout)])
        return y
    }

    /// A kernel's struct of a rank and up to eight extents and strides per operand (`Broadcast`,
    /// `Permutation` in cuda/tensor.cu): each array padded to eight.
    static func smallIntegers(_ rank: [Int], _ arrays: [Int]...) -> [Int32] {
        precondition(arrays.allSatisfy { $0.count <= 8 }, "the CUDA kernels take tensors of rank 8 at most")
        return rank.map(Int32.init) + arrays.flatMap { $0.map(Int32.init) + Array(repeating: 0, count: 8 - $0.count) }
    }

    // MARK: Linear algebra

    /// Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS gets B first, each operand as stored.
    public func matmul(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, batch: Int, sharedB: Bool,
                       m: Int, n: Int, k: Int, shape: [Int]) -> Tensor {
        let c = make(shape)
        guard c.count > 0 else { return c }
        if k == 0 { return filled(0, shape: shape) }
        var one: Float = 1, zero: Float = 0
        let A = UnsafePointer<Float>(bitPattern: UInt(address(a))), B = UnsafePointer<Float>(bitPattern: UInt(address(b)))
        let C = UnsafeMutablePointer<Float>(bitPattern: UInt(address(c)))
        CUDAContext.require(recur_cublasSgemmStridedBatched(context.cublas, transposeB ? 1 : 0, transposeA ? 1 : 0, Int32(n), Int32(m), Int32(k), &one,
                                                            B, Int32(transposeB ? k : n), sharedB ? 0 : Int64(k * n),
                                                            A, Int32(transposeA ? m : k), Int64(m * k),
                                                            &zero, C, Int32(n), Int64(m * n), Int32(batch)), "cublasSgemmStridedBatched")
        return c
    }

    // MARK: Reductions

    public func sum(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let y = make(shape)
        if n == 0 { return filled(0, shape: shape) }
        context.launch("recur_sum", total: 0, reduceOver: outer * inner, [.pointer(address(x)), .pointer(address(y)), .int(outer), .int(n), .int(inner)])
        return y
    }

    public func argmax(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let y = make(shape)
        context.launch("recur_argmax", total: outer * inner, [.pointer(address(x)), .pointer(address(y)), .int(outer), .int(n), .int(inner)])
        return y
    }

    public func pick(_ x: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let y = make(shape)
        context.launch("recur_pick", total: outer * inner, [.pointer(address(x)), .pointer(address(indices)), .pointer(address(y)),
                                                            .int(outer), .int(n), .int(inner)])
        return y
    }

    public func unpick(_ gradient: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let dx = make(shape)
        context.launch("recur_unpick", total: dx.count, [.pointer(address(gradient)), .pointer(address(indices)), .pointer(address(dx)),
                                                         .int(outer), .int(n), .int(inner)])
        return dx
    }

    // MARK: Indexing

    public func gatherRows(_ table: Tensor, rows: [Int], shape: [Int]) -> Tensor {
        let y = make(shape)
        let width = table.count / Swift.max(table.shape.first ?? 1, 1)
        let indices = deviceIntegers(rows.map { Int32($0) })
        context.launch("recur_gather_rows", total: rows.count * width, [.pointer(address(table)), .pointer(address(indices)), .pointer(address(y)),
                                                                        .int(rows.count), .int(width)])
        return y
    }

    public func scatterAddRows(_ gradient: Tensor, rows: [Int], shape: [Int]) -> Tensor {
        let table = filled(0, shape: shape)
        let width = table.count / Swift.max(shape.first ?? 1, 1)
        let indices = deviceIntegers(rows.map { Int32($0) })
        context.launch("recur_scatter_add_rows", total: rows.count * width, [.pointer(address(gradient)), .pointer(address(indices)),
                                                                             .pointer(address(table)), .int(rows.count), .int(width)])
        return table
    }

    // MARK: Layout

    public func transposed(_ x: Tensor, permutation: [Int], shape: [Int]) -> Tensor {
        var inStrides = [Int](repeating: 1, count: x.rank)
        for i in stride(from: x.rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
        let y = make(shape)
        let layout = CUDABackend.smallIntegers([shape.count], shape, permutation.map { inStrides[$0] })
        context.launch("recur_transpose", total: y.count, [.pointer(address(x)), .pointer(address(y)), .int(y.count), .ints(layout)])
        return y
    }

    public func slice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor {
        let y = make(shape)
        context.launch("recur_slice", total: y.count, [.pointer(address(x)), .pointer(address(y)), .int(outer), .int(n), .int(inner),
                                                       .int(range.lowerBound), .int(range.count)])
        return y
    }

    public func unslice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor {
        let y = make(shape)
        context.launch("recur_unslice", total: y.count, [.pointer(address(x)), .pointer(address(y)), .int(outer), .int(n), .int(inner),
                                                         .int(range.lowerBound), .int(range.count)])
        return y
    }

    public func concatenate(_ parts: [Tensor], outer: Int, inner: Int, shape: [Int]) -> Tensor {
        let y = make(shape)
        let rowWidth = y.count / Swift.max(outer, 1)
        var offset = 0
        for part in parts {
            let width = part.count / Swift.max(outer, 1)
            context.launch("recur_place", total: outer * width, [.pointer(address(part)), .pointer(address(y)), .int(outer), .int(width),
                                                                 .int(rowWidth), .int(offset)])
            offset += width
        }
        return y
    }

    public func reversed(_ x: Tensor, outer: Int, n: Int, inner: Int) -> Tensor {
        let y = make(x.shape)
        context.launch("recur_reverse", total: y.count, [.pointer(address(x)), .pointer(address(y)), .int(outer), .int(n), .int(inner)])
        return y
    }

    // MARK: Neural-network ops

    public func logSoftmax(_ x: Tensor, classes: Int) -> Tensor {
        let y = make(x.shape)
        let rows = x.count / Swift.max(classes, 1)
        context.launch("recur_log_softmax", total: rows, [.pointer(address(x)), .pointer(address(y)), .int(rows), .int(classes)])
        return y
    }

    public func batchNormalization(_ x: Tensor, features: Int, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> (y: Tensor, mean: Tensor, variance: Tensor) {
        let y = make(x.shape), mean = make([features]), variance = make([features])
        context.launch("recur_bn_forward", total: features, [.pointer(address(x)), .pointer(address(y)), .pointer(address(mean)), .pointer(address(variance)),
                                                             .pointer(gamma.map(address) ?? 0), .pointer(beta.map(address) ?? 0),
                                                             .int(x.count / Swift.max(features, 1)), .int(features), .float(epsilon)])
        return (y, mean, variance)
    }

    public func batchNormalizationGradients(_ x: Tensor, gradient: Tensor, features: Int, mean: Tensor, variance: Tensor, gamma: Tensor?,
                                            epsilon: Float) -> (x: Tensor, gamma: Tensor, beta: Tensor) {
        let dx = make(x.shape), dGamma = make([features]), dBeta = make([features])
        context.launch("recur_bn_backward", total: features, [.pointer(address(x)), .pointer(address(gradient)), .pointer(address(mean)),
                                                              .pointer(address(variance)), .pointer(gamma.map(address) ?? 0), .pointer(address(dx)),
                                                              .pointer(address(dGamma)), .pointer(address(dBeta)),
                                                              .int(x.count / Swift.max(features, 1)), .int(features), .float(epsilon)])
        return (dx, dGamma, dBeta)
    }

    /// Drawn on the host from the host generator (so that every device draws the same numbers), then uploaded.
    public func random(_ distribution: RandomDistribution, shape: [Int], generator: inout SeededGenerator) -> Tensor {
        try! upload(CPUBackend.shared.random(distribution, shape: shape, generator: &generator))
    }

    public func update(_ value: inout Tensor, by rule: UpdateRule, gradient: Tensor, slots: inout [Tensor]) throws {
        // Written in place: storage shared with another tensor is copied first, as copy-on-write would.
        if !isKnownUniquelyReferenced(&value.buffer) { value = copy(value) }
        for i in slots.indices where !isKnownUniquelyReferenced(&slots[i].buffer) { slots[i] = copy(slots[i]) }
        let n = value.count
        let (w, g) = (address(value), address(gradient))
        let first = slots.first.map(address) ?? 0, second = slots.count > 1 ? address(slots[1]) : 0
        switch rule {
        case let .sgd(lr, mu, nesterov):
            context.launch("recur_sgd", total: n, [.pointer(w), .pointer(first), .pointer(g), .float(lr), .float(mu), .int(nesterov ? 1 : 0), .int(n)])
        case let .adam(lr, b1, b2, eps, step):
            let t = Double(step)
            let alpha = Float(Double(lr) * (1 - pow(Double(b2), t)).squareRoot() / (1 - pow(Double(b1), t)))
            context.launch("recur_adam", total: n, [.pointer(w), .pointer(first), .pointer(second), .pointer(g), .float(alpha), .float(b1), .float(b2),
                                                    .float(eps), .int(n)])
        case let .rmsprop(lr, rho, mu, eps):
            context.launch("recur_rmsprop", total: n, [.pointer(w), .pointer(first), .pointer(second), .pointer(g), .float(lr), .float(rho),
                                                       .float(mu), .float(eps), .int(n)])
        case let .weightDecay(rate):
            context.launch("recur_weight_decay", total: n, [.pointer(w), .float(rate), .int(n)])
        }
    }

    // MARK: Gate steps of the cell loop

    public func lstmGates(_ z: Tensor, cPrev: Tensor) -> (h: Tensor, c: Tensor, backward: ([Tensor?]) -> [Tensor]) {
        let (B, U) = (cPrev.shape[0], cPrev.shape[1])
        let gates = copy(z)
        let c = make([B, U]), tanhC = make([B, U]), h = make([B, U])
        context.launch("recur_lstm_gates_forward", total: B * U, [.pointer(address(gates)), .pointer(address(cPrev)), .pointer(address(c)),
                                                                  .pointer(address(tanhC)), .pointer(address(h)), .int(B), .int(U)])
        let cPrevSaved = cPrev.detached
        return (h, c, { grads in
            let dh = grads[0] ?? self.filled(0, shape: [B, U])
            let dc = grads[1].map(self.copy) ?? self.filled(0, shape: [B, U])
            let dz = self.make([B, 4 * U])
            self.context.launch("recur_lstm_gates_backward", total: B * U, [.pointer(self.address(gates)), .pointer(self.address(cPrevSaved)),
                                                                            .pointer(self.address(tanhC)), .pointer(self.address(dh)),
                                                                            .pointer(self.address(dc)), .pointer(self.address(dz)), .int(B), .int(U)])
            return [dz, dc]
        })
    }

    public func gruGates(xproj: Tensor, hproj: Tensor, hPrev: Tensor) -> (h: Tensor, backward: (Tensor) -> [Tensor]) {
        let (B, U) = (hPrev.shape[0], hPrev.shape[1])
        let act = make([B, 3 * U]), h = make([B, U])
        context.launch("recur_gru_gates_forward", total: B * U, [.pointer(address(xproj)), .pointer(address(hproj)), .pointer(address(hPrev)),
                                                                 .pointer(address(act)), .pointer(address(h)), .int(B), .int(U)])
        let (hprojSaved, hPrevSaved) = (hproj.detached, hPrev.detached)
        return (h, { grad in
            let dx = self.make([B, 3 * U]), dh = self.make([B, 3 * U]), dPrev = self.make([B, U])
            self.context.launch("recur_gru_gates_backward", total: B * U, [.pointer(self.address(act)), .pointer(self.address(hprojSaved)),
                                                                           .pointer(self.address(hPrevSaved)), .pointer(self.address(grad)),
                                                                           .pointer(self.address(dx)), .pointer(self.address(dh)),
                                                                           .pointer(self.address(dPrev)), .int(B), .int(U)])
            return [dx, dh, dPrev]
        })
    }
}
