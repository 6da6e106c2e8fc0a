import CRecurKernels
import Foundation

/// The host's backend: OpenBLAS for GEMM, Recur's C kernels (vectorised activations, gate steps,
/// packed step GEMM) and plain loops. It reads and writes tensors' host memory; nothing else in the
/// library does outside file IO.
public final class CPUBackend: Backend, @unchecked Sendable {
    public static let shared = CPUBackend()
    public let device = Device.cpu

    private init() {}

    public func upload(_ host: Tensor) throws -> Tensor { host }
    public func download(_ x: Tensor) throws -> Tensor { x }

    public func filled(_ value: Float, shape: [Int]) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.base.update(repeating: value, count: t.count)
        return t
    }

    // MARK: Elementwise

    public func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        applyUnary(op, x.base, out.base, x.count)
        return out
    }

    public func unaryGradient(_ op: UnaryOp, input: Tensor, output: Tensor, gradient: Tensor) -> Tensor {
        let dx = Tensor(uninitializedShape: gradient.shape)
        switch op {
        case .tanh: recur_tanh_backward(output.base, gradient.base, dx.base, dx.count)
        case .sigmoid: recur_sigmoid_backward(output.base, gradient.base, dx.base, dx.count)
        case .relu: recur_relu_backward(input.base, gradient.base, dx.base, dx.count)
        default: preconditionFailure("unaryGradient has no kernel for \(op); its gradient is written with tensor ops")
        }
        return dx
    }

    public func scaled(_ x: Tensor, by alpha: Float) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        recur_scale(x.base, alpha, out.base, x.count)
        return out
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
        if let code = op.kernelCode { return broadcastBinary(a, b, code: code, shape: shape) }
        let zeros = filled(0, shape: shape)
        let x = broadcastBinary(a, zeros, code: Int32(RECUR_ADD), shape: shape)
        let y = broadcastBinary(b, zeros, code: Int32(RECUR_ADD), shape: shape)
        let out = Tensor(uninitializedShape: shape)
        applyBinary(op, x.base, 1, y.base, 1, out.base, out.count)
        return out
    }

    // MARK: Linear algebra

    public func matmul(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, batch: Int, sharedB: Bool,
                       m: Int, n: Int, k: Int, shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        if sharedB && !transposeA {
            gemm(a.base, transposeA: false, b.base, transposeB: transposeB, out.base, m: batch * m, n: n, k: k)
        } else {
            for i in 0..<batch {
                gemm(a.base + i * m * k, transposeA: transposeA, b.base + (sharedB ? 0 : i * k * n), transposeB: transposeB,
                     out.base + i * m * n, m: m, n: n, k: k)
            }
        }
        return out
    }

    // MARK: Reductions

    public func sum(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        for o in 0..<outer {
            let src = x.base + o * n * inner, dst = out.base + o * inner
            if inner == 1 {
                dst[0] = Float(recur_sum(src, n))
            } else if n * inner < 1 << 16 {
                recur_sum_rows(src, n, inner, inner, dst)
            } else {
                // Blocks of 64 columns (as the kernel takes them), claimed by the threads in turn.
                parallelBlocks(inner, blockSize: 64) { columns in
                    recur_sum_rows(src + columns.lowerBound, n, columns.count, inner, dst + columns.lowerBound)
                }
            }
        }
        return out
    }

    public func argmax(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = x.base[o * n * inner + i]
                for k in 1..<Swift.max(n, 1) where x.base[(o * n + k) * inner + i] > bestValue {
                    best = k
                    bestValue = x.base[(o * n + k) * inner + i]
                }
                out.base[o * inner + i] = Float(best)
            }
        }
        return out
    }

    public func pick(_ x: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        for o in 0..<outer {
            for i in 0..<inner { out.base[o * inner + i] = x.base[(o * n + Int(indices.base[o * inner + i])) * inner + i] }
        }
        return out
    }

    public func unpick(_ gradient: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        let dx = filled(0, shape: shape)
        for o in 0..<outer {
            for i in 0..<inner { dx.base[(o * n + Int(indices.base[o * inner + i])) * inner + i] = gradient.base[o * inner + i] }
        }
        return dx
    }

    // MARK: Indexing

    public func gatherRows(_ table: Tensor, rows: [Int], shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let row = table.count / Swift.max(table.shape.first ?? 1, 1)
        for (i, r) in rows.enumerated() where row > 0 { (out.base + i * row).update(from: table.base + r * row, count: row) }
        return out
    }

    public func scatterAddRows(_ gradient: Tensor, rows: [Int], shape: [Int]) -> Tensor {
        let table = filled(0, shape: shape)
        let row = table.count / Swift.max(shape.first ?? 1, 1)
        for (i, r) in rows.enumerated() {
            let dst = table.base + r * row, src = gradient.base + i * row
            for k in 0..<row { dst[k] += src[k] }
        }
        return table
    }

    // MARK: Layout

    public func transposed(_ x: Tensor, permutation perm: [Int], shape outShape: [Int]) -> Tensor {
        let rank = x.rank
        let out = Tensor(uninitializedShape: outShape)
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
        let strides = perm.map { inStrides[$0] }
        if rank == 2 {
            let (r, c) = (outShape[0], outShape[1])
            for i in 0..<r { for j in 0..<c { out.base[i * c + j] = x.base[i * strides[0] + j * strides[1]] } }
        } else if out.count > 0 {
            var index = [Int](repeating: 0, count: rank)
            var offset = 0
            for k in 0..<out.count {
                out.base[k] = x.base[offset]
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    offset += strides[d]
                    if index[d] < outShape[d] { break }
                    offset -= strides[d] * outShape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return out
    }

    public func slice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let block = range.count * inner
        if block > 0 {
            for o in 0..<outer { (out.base + o * block).update(from: x.base + (o * n + range.lowerBound) * inner, count: block) }
        }
        return out
    }

    public func unslice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor {
        let out = filled(0, shape: shape)
        let block = range.count * inner
        if block > 0 {
            for o in 0..<outer { (out.base + (o * n + range.lowerBound) * inner).update(from: x.base + o * block, count: block) }
        }
        return out
    }

    public func concatenate(_ parts: [Tensor], outer: Int, inner: Int, shape: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let rowOut = out.count / Swift.max(outer, 1)
        var start = 0
        for part in parts {
            let block = part.count / Swift.max(outer, 1)
            if block > 0 {
                for o in 0..<outer { (out.base + o * rowOut + start).update(from: part.base + o * block, count: block) }
            }
            start += block
        }
        return out
    }

    public func reversed(_ x: Tensor, outer: Int, n: Int, inner: Int) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        for o in 0..<outer {
            for k in 0..<n where inner > 0 {
                (out.base + (o * n + k) * inner).update(from: x.base + (o * n + n - 1 - k) * inner, count: inner)
            }
        }
        return out
    }

    // MARK: Neural-network ops

    public func logSoftmax(_ x: Tensor, classes: Int) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let rows = x.count / classes
        var scratch = [Float](repeating: 0, count: classes)
        for r in 0..<rows {
            let src = x.base + r * classes, y = out.base + r * classes
            var m = src[0]
            for k in 1..<classes where src[k] > m { m = src[k] }
            for k in 0..<classes { scratch[k] = src[k] - m }
            scratch.withUnsafeMutableBufferPointer { recur_exp($0.baseAddress!, $0.baseAddress!, classes) }
            var s: Double = 0
            for k in 0..<classes { s += Double(scratch[k]) }
            // (x − m) − log Σ exp(x − m), not x − (m + log Σ): with |m| large (−1e9, attention's hidden
            // steps) m + log Σ rounds to m, and a row of equal values came out as 1 each, not 1/n.
            let logSum = Float(Foundation.log(s))
            for k in 0..<classes { y[k] = (src[k] - m) - logSum }
        }
        return out
    }

    public func batchNormalization(_ x: Tensor, features: Int, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> (y: Tensor, mean: Tensor, variance: Tensor) {
        let rows = x.count / features, inverseCount = 1 / Float(Swift.max(rows, 1))
        let mean = Tensor(uninitializedShape: [features]), variance = Tensor(uninitializedShape: [features])
        let y = Tensor(uninitializedShape: x.shape)
        let (source, out, m, v) = (x.base, y.base, mean.base, variance.base)
        // The mean and variance as the unfused ops compute them: column sums (recur_sum_rows) times 1/N,
        // the variance from the squared deviations, which y holds until it is written.
        recur_sum_rows(source, rows, features, features, m)
        for f in 0..<features { m[f] *= inverseCount }
        for r in 0..<rows {
            let row = source + r * features, deviation = out + r * features
            for f in 0..<features { let d = row[f] - m[f]; deviation[f] = d * d }
        }
        recur_sum_rows(out, rows, features, features, v)
        var scale = [Float](repeating: 0, count: features), shift = [Float](repeating: 0, count: features)
        for f in 0..<features {
            v[f] *= inverseCount
            scale[f] = 1 / (v[f] + epsilon).squareRoot() * (gamma?.base[f] ?? 1)
            shift[f] = -(m[f] * scale[f]) + (beta?.base[f] ?? 0)
        }
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                for r in 0..<rows {
                    let row = source + r * features, outRow = out + r * features
                    for f in 0..<features { outRow[f] = row[f] * scale[f] + shift[f] }
                }
            }
        }
        return (y, mean, variance)
    }

    public func batchNormalizationGradients(_ x: Tensor, gradient: Tensor, features: Int, mean: Tensor, variance: Tensor, gamma: Tensor?,
                                            epsilon: Float) -> (x: Tensor, gamma: Tensor, beta: Tensor) {
        let rows = x.count / features, count = Float(rows)
        let dx = Tensor(uninitializedShape: x.shape), dGamma = Tensor.zeros([features]), dBeta = Tensor.zeros([features])
        let (source, g, out, m, dg, db) = (x.base, gradient.base, dx.base, mean.base, dGamma.base, dBeta.base)
        var inverseDeviation = [Float](repeating: 0, count: features), factor = [Float](repeating: 0, count: features)
        for f in 0..<features {
            inverseDeviation[f] = 1 / (variance.base[f] + epsilon).squareRoot()
            factor[f] = (gamma?.base[f] ?? 1) * inverseDeviation[f] / count
        }
        inverseDeviation.withUnsafeBufferPointer { inverseDeviation in
            factor.withUnsafeBufferPointer { factor in
                for r in 0..<rows {
                    let row = source + r * features, gRow = g + r * features
                    for f in 0..<features {
                        db[f] += gRow[f]
                        dg[f] += gRow[f] * (row[f] - m[f]) * inverseDeviation[f]
                    }
                }
                for r in 0..<rows {
                    let row = source + r * features, gRow = g + r * features, outRow = out + r * features
                    for f in 0..<features {
                        let normalized = (row[f] - m[f]) * inverseDeviation[f]
                        outRow[f] = factor[f] * (count * gRow[f] - db[f] - normalized * dg[f])
                    }
                }
            }
        }
        return (dx, dGamma, dBeta)
    }

    public func random(_ distribution: RandomDistribution, shape: [Int], generator: inout SeededGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        switch distribution {
        case let .uniform(low, high):
            for i in 0..<t.count { t.base[i] = low + (high - low) * generator.nextUnitFloat() }
        case let .normal(mean, sd):
            for i in 0..<t.count { t.base[i] = mean + sd * generator.nextNormal() }
        case let .truncatedNormal(mean, sd):
            for i in 0..<t.count {
                var z = generator.nextNormal()
                while Swift.abs(z) > 2 { z = generator.nextNormal() }
                t.base[i] = mean + sd * z
            }
        }
        return t
    }

    public func update(_ value: inout Tensor, by rule: UpdateRule, gradient: Tensor, slots: inout [Tensor]) throws {
        try value.applyOnHost(rule, gradient: gradient, slots: &slots)
    }

    // MARK: Recurrences

    /// Recur's fused kernels take any mask (not only right-padded ones) and both GRU forms; they need
    /// the usual activations, a bias, no recurrent dropout and no unrolling.
    public func recurrenceDeclineReason(_ kind: RecurrenceKind, _ options: RecurrenceOptions, mask: Tensor?) -> FusedDeclineReason? {
        options.commonDeclineReason(kind)
    }

    public func recurrence(_ kind: RecurrenceKind, _ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                           initialStates: [Tensor], mask: Tensor?, reverse: Bool, returnSequence: Bool,
                           zeroMaskedOutputs: Bool, savingForBackward: Bool) throws -> (outputs: [Tensor], backward: RecurrenceBackward) {
        try hostRecurrence(kind, x, kernel: kernel, recurrentKernel: recurrentKernel, bias: bias, initialStates: initialStates,
                           mask: mask, reverse: reverse, returnSequence: returnSequence, zeroMaskedOutputs: zeroMaskedOutputs,
                           savingForBackward: savingForBackward)
    }

    public func lstmGates(_ z: Tensor, cPrev: Tensor) -> (h: Tensor, c: Tensor, backward: ([Tensor?]) -> [Tensor]) {
        let (B, U) = (cPrev.shape[0], cPrev.shape[1])
        let gates = z.detachedCopy()
        let c = Tensor(uninitializedShape: [B, U]), tanhC = Tensor(uninitializedShape: [B, U]), h = Tensor(uninitializedShape: [B, U])
        recur_lstm_gates_forward(gates.base, cPrev.base, c.base, tanhC.base, h.base, B, U)
        let cPrevSaved = cPrev.detached
        return (h, c, { grads in
            let dh = grads[0] ?? Tensor.zeros([B, U])
            let dc = grads[1]?.detachedCopy() ?? Tensor.zeros([B, U])
            let dz = Tensor(uninitializedShape: [B, 4 * U])
            recur_lstm_gates_backward(gates.base, cPrevSaved.base, tanhC.base, dh.base, dc.base, dz.base, B, U)
            return [dz, dc]
        })
    }

    public func gruGates(xproj: Tensor, hproj: Tensor, hPrev: Tensor) -> (h: Tensor, backward: (Tensor) -> [Tensor]) {
        let (B, U) = (hPrev.shape[0], hPrev.shape[1])
        let act = Tensor(uninitializedShape: [B, 3 * U])
        let h = Tensor(uninitializedShape: [B, U])
        recur_gru_gates_forward(xproj.base, hproj.base, hPrev.base, act.base, h.base, B, U)
        let (hprojSaved, hPrevSaved) = (hproj.detached, hPrev.detached)
        return (h, { grad in
            let dx = Tensor(uninitializedShape: [B, 3 * U]), dh = Tensor(uninitializedShape: [B, 3 * U])
            let dPrev = Tensor(uninitializedShape: [B, U])
            recur_gru_gates_backward(act.base, hprojSaved.base, hPrevSaved.base, grad.base, dx.base, dh.base, dPrev.base, B, U)
            return [dx, dh, dPrev]
        })
    }
}

extension Tensor {
    /// A host copy with its own storage.
    func detachedCopy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.base.update(from: base, count: count)
        return t
    }
}

/// y = op(x) over n scalars.
func applyUnary(_ op: UnaryOp, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    switch op {
    case .exp: recur_exp(x, y, n)
    case .log: recur_log(x, y, n)
    case .tanh: recur_tanh(x, y, n)
    case .sigmoid: recur_sigmoid(x, y, n)
    case .relu: recur_relu(x, y, n)
    case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
    case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
    case .sign: for i in 0..<n { y[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
    }
}

/// y[i] = a[i·sa] op b[i·sb] over n scalars (strides 0 or 1).
func applyBinary(_ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ sa: Int, _ b: UnsafeMutablePointer<Float>, _ sb: Int,
                 _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    if let code = op.kernelCode { recur_binary(code, a, sa, b, sb, y, n); return }
    let predicate: (Float, Float) -> Bool
    switch op {
    case .add, .subtract, .multiply, .divide, .maximum, .minimum: preconditionFailure("arithmetic runs in recur_binary")
    case .greater: predicate = (>)
    case .greaterEqual: predicate = (>=)
    case .less: predicate = (<)
    case .equal: predicate = (==)
    case .notEqual: predicate = (!=)
    }
    for i in 0..<n { y[i] = predicate(a[i * sa], b[i * sb]) ? 1 : 0 }
}

extension BinaryOp {
    /// The `recur_binary` code of an arithmetic op; nil for the comparisons.
    var kernelCode: Int32? {
        switch self {
        case .add: Int32(RECUR_ADD)
        case .subtract: Int32(RECUR_SUB)
        case .multiply: Int32(RECUR_MUL)
        case .divide: Int32(RECUR_DIV)
        case .maximum: Int32(RECUR_MAX)
        case .minimum: Int32(RECUR_MIN)
        case .greater, .greaterEqual, .less, .equal, .notEqual: nil
        }
    }
}
