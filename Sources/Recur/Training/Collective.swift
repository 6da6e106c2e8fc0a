/// The processes (ranks) that train one model together, and the collective operations they share:
/// what `fit(…, distribution:)` needs from a communication library. `RecurMPI`'s `MPIDataParallel`
/// provides it over Open MPI; Recur itself stays free of MPI.
///
/// Every rank must call the same collectives in the same order with buffers of the same size; an
/// implementation throws `RecurError` when the library reports an error.
public protocol Collective: AnyObject, Sendable {
    /// This process's index, 0..<size; rank 0 prints, logs and writes files.
    var rank: Int { get }
    /// How many processes train together.
    var size: Int { get }
    /// Replaces `values` on every rank with their elementwise sum over all ranks.
    func allReduceSum(_ values: inout [Float]) throws
    /// Replaces `values` on every rank with their elementwise sum over all ranks.
    func allReduceSum(_ values: inout [Double]) throws
    /// Replaces `values` on every rank with rank `root`'s.
    func broadcast(_ values: inout [Float], root: Int) throws
    /// Replaces `values` on every rank with rank `root`'s.
    func broadcast(_ values: inout [Double], root: Int) throws
}

/// The collective a running `fit` trains with: set for the duration of a distributed `fit`, read by
/// the layers that need the whole global batch (`BatchNormalization(synchronized: true)`) and by the
/// callbacks that write files (rank 0 only).
public enum DataParallelContext {
    @TaskLocal static var current: (any Collective)?

    /// Whether this process writes files and prints: true outside distributed training and on rank 0.
    public static var isChief: Bool { (current?.rank ?? 0) == 0 }

    /// Runs `body` with `collective` as the current one.
    static func with<R>(_ collective: (any Collective)?, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(collective, operation: body)
    }
}

extension Collective {
    /// Rank `root`'s values of every tensor in `tensors` (same shapes on every rank), as one buffer.
    func broadcast(_ tensors: [Tensor], root: Int = 0) throws -> [Tensor] {
        try throughOneBuffer(tensors) { try broadcast(&$0, root: root) }
    }

    /// The elementwise sum of `tensors` over all ranks, as one buffer (one collective call).
    func allReduceSum(_ tensors: [Tensor]) throws -> [Tensor] {
        try throughOneBuffer(tensors) { try allReduceSum(&$0) }
    }

    /// `tensors` flattened into one buffer, passed to `collective`, and cut back into their shapes.
    private func throughOneBuffer(_ tensors: [Tensor], _ collective: (inout [Float]) throws -> Void) throws -> [Tensor] {
        var flat = tensors.flatMap(\.scalars)
        try collective(&flat)
        var offset = 0
        return try tensors.map { t in
            defer { offset += t.count }
            return try Tensor(shape: t.shape, scalars: Array(flat[offset..<(offset + t.count)]))
        }
    }

    /// The sum of `x` over all ranks as a differentiable op: every rank's result depends on every
    /// rank's `x`, so the gradient of `x` is the sum over ranks of the result's gradients.
    func differentiableSum(_ x: Tensor) throws -> Tensor {
        let total = try allReduceSum([x])[0]
        return Tensor.differentiable(total, inputs: [x]) { g in try self.allReduceSum([g]) }
    }

    /// Whether any rank passes true (a stop decision every rank must share).
    func any(_ flag: Bool) throws -> Bool {
        var value: [Float] = [flag ? 1 : 0]
        try allReduceSum(&value)
        return value[0] > 0
    }
}
