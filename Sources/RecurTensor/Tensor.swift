import Foundation
import CRecurKernels

/// An n-dimensional array of Float32 scalars in row-major order, with value semantics
/// (copy-on-write storage) and optional participation in reverse-mode differentiation.
///
/// Integer data (class labels, token ids) is stored as whole-number Float32 values; every op that
/// takes indices (`gather`, sparse losses) checks that they are whole and in range.
public struct Tensor {
    /// The extent of each dimension; `[]` for a scalar.
    public let shape: [Int]
    var buffer: TensorBuffer
    /// The op output recording how this tensor was computed, when it depends on a tensor that requires gradients.
    var node: GradEdge?

    init(shape: [Int], buffer: TensorBuffer) {
        self.shape = shape
        self.buffer = buffer
    }

    /// Whether this tensor and `other` share one storage, and so hold the same scalars: a tensor's
    /// scalars change only through a mutating method, which copies shared storage first. (Two slices
    /// of one tensor's rows share it only when they are the same rows.)
    public func sharesStorage(with other: Tensor) -> Bool { buffer.holdsSameScalars(as: other.buffer) }

    /// A host tensor of the given shape with uninitialised scalars (internal: every op fills its output).
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, buffer: TensorBuffer(count: shape.reduce(1, *)))
    }

    /// A tensor of a backend's device on its memory: for backends of other devices than the CPU.
    public init(shape: [Int], memory: any DeviceMemory) throws {
        guard memory.count == shape.reduce(1, *) else {
            throw RecurError.shapeMismatch(op: "Tensor", expected: "\(shape.reduce(1, *)) scalars for shape \(describeShape(shape))",
                                           actual: "device memory of \(memory.count) scalars")
        }
        self.init(shape: shape, buffer: TensorBuffer(memory: memory))
    }

    /// The device memory of a tensor that is not on the host (nil for host tensors): for its backend.
    public var memory: (any DeviceMemory)? { buffer.memory }

    /// A tensor holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) throws {
        let count = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw RecurError.invalidArgument(op: "Tensor", message: "negative dimension in shape \(describeShape(shape))")
        }
        guard scalars.count == count else {
            throw RecurError.shapeMismatch(op: "Tensor", expected: "\(count) scalars for shape \(describeShape(shape))",
                                           actual: "\(scalars.count) scalars")
        }
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if count > 0 { buffer.base.update(from: src.baseAddress!, count: count) }
        }
    }

    /// A rank-1 tensor.
    public init(_ scalars: [Float]) {
        try! self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A rank-0 tensor.
    public init(_ scalar: Float) {
        self.init(uninitializedShape: [])
        buffer.base[0] = scalar
    }

    /// A tensor with every scalar equal to `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(uninitializedShape: shape)
        buffer.base.update(repeating: value, count: buffer.count)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// Zeros on `device`.
    public static func zeros(_ shape: [Int], on device: Device) throws -> Tensor {
        try Backends.backend(for: device).filled(0, shape: shape)
    }

    /// Number of scalars.
    public var count: Int { buffer.count }
    public var rank: Int { shape.count }
    public var device: Device { buffer.device }

    /// A copy of the scalars in row-major order, copied from the device when the tensor is not on the
    /// host. A device whose backend fails to copy stops the program here: use `hostScalars()` to handle
    /// that error instead.
    public var scalars: [Float] {
        do { return try hostScalars() } catch { preconditionFailure("Tensor.scalars: \(error)") }
    }

    /// A copy of the scalars in row-major order, copied from the device when the tensor is not on the host.
    public func hostScalars() throws -> [Float] {
        StepTracer.current?.hostRead(self)
        let host = try deviceBackend.download(detached)
        return Array(UnsafeBufferPointer(start: host.buffer.base, count: count))
    }

    /// The single scalar of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar needs exactly one element, shape is \(describeShape(shape))")
        return scalars[0]
    }

    /// Read-only access to the scalars of a host tensor; throws for a tensor on another device, whose
    /// memory the host cannot address (move it with `to(.cpu)`).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        try requireHost("withUnsafeBufferPointer")
        return try body(UnsafeBufferPointer(start: buffer.base, count: count))
    }

    /// Mutable access to the scalars of a host tensor; copies the storage first if it is shared
    /// (copy-on-write). Throws for a tensor on another device.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        try requireHost("withUnsafeMutableBufferPointer")
        if !isKnownUniquelyReferenced(&buffer) || buffer.isView {
            let copy = TensorBuffer(count: count)
            copy.base.update(from: buffer.base, count: count)
            buffer = copy
        }
        return try body(UnsafeMutableBufferPointer(start: buffer.base, count: count))
    }

    /// Throws unless the tensor is in host memory.
    func requireHost(_ what: String) throws {
        StepTracer.current?.hostRead(self)
        guard device == .cpu else {
            throw RecurError.invalidArgument(op: what, message: "the tensor is on \(device), not in host memory: move it with .to(.cpu)")
        }
    }

    /// The pointer to the scalars, for kernels that only read.
    var base: UnsafeMutablePointer<Float> { buffer.base }
}

/// A tensor can cross threads and tasks: its storage is copied before any write when another value
/// shares it (copy-on-write), ops write only buffers they have just made, and its gradient node is
/// immutable once recorded. The compiler cannot see through the storage's pointer, hence `@unchecked`.
extension Tensor: @unchecked Sendable {}

extension Tensor: CustomStringConvertible {
    /// As NumPy and PyTorch print arrays: nested brackets, one row per line, the shape; more than
    /// 1,000 scalars are summarised with the first and last 3 entries of each axis.
    ///
    ///     Tensor([[1.0, 2.0, 3.0],
    ///             [4.0, 5.0, 6.0]], shape: (2, 3))
    public var description: String {
        let prefix = "Tensor("
        let summarise = count > 1000
        guard let all = try? hostScalars() else { return "Tensor(on \(device), shape: \(describeShape(shape)))" }
        func format(_ x: Float) -> String { x == x.rounded() && Swift.abs(x) < 1e16 ? String(format: "%.1f", x) : "\(x)" }
        func block(axis: Int, offset: Int) -> String {
            if axis == rank { return format(all[offset]) }
            let size = shape[axis]
            let stride = shape[(axis + 1)...].reduce(1, *)
            let shown: [Int?] = summarise && size > 6 ? Array(0..<3) + [nil] + Array((size - 3)..<size) : Array(0..<size)
            let parts = shown.map { i in i.map { block(axis: axis + 1, offset: offset + $0 * stride) } ?? "..." }
            let separator = axis == rank - 1 ? ", " : "," + String(repeating: "\n", count: rank - 1 - axis)
                + String(repeating: " ", count: prefix.count + axis + 1)
            return "[" + parts.joined(separator: separator) + "]"
        }
        return prefix + block(axis: 0, offset: 0) + ", shape: \(describeShape(shape)))"
    }
}

extension Tensor {
    /// True when both tensors have the same shape and every pair of scalars differs by at most
    /// `absoluteTolerance + relativeTolerance * |other|`.
    public func isAlmostEqual(to other: Tensor, absoluteTolerance: Float = 1e-5, relativeTolerance: Float = 1e-5) -> Bool {
        guard shape == other.shape else { return false }
        guard let x = try? hostScalars(), let y = try? other.hostScalars() else { return false }
        for i in 0..<count {
            let a: Float = x[i], b: Float = y[i]
            let limit: Float = absoluteTolerance + relativeTolerance * Swift.abs(b)
            if !(Swift.abs(a - b) <= limit) { return false }
        }
        return true
    }

    /// The largest absolute difference between two tensors of the same shape.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes differ: \(shape) vs \(other.shape)")
        let (x, y) = (scalars, other.scalars)
        var m: Float = 0
        for i in 0..<Swift.min(x.count, y.count) { m = Swift.max(m, Swift.abs(x[i] - y[i])) }
        return m
    }
}

