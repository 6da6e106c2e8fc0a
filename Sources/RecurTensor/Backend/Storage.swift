import Foundation

/// Where a tensor's scalars live. Every op runs on the `Backend` of its operands' device.
public enum Device: Sendable, Hashable, CustomStringConvertible {
    /// Host memory, computed by `CPUBackend`.
    case cpu
    /// Memory of another device, named (a GPU, or a device of the tests), computed by the backend
    /// registered for it with `Backends.register(_:)`.
    case accelerator(String)

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .accelerator(let name): name
        }
    }
}

/// Memory on a device other than the host, owned by that device's backend: to everyone else an opaque
/// handle, read only through the backend (`Tensor.to(.cpu)`).
public protocol DeviceMemory: AnyObject {
    var device: Device { get }
    /// The number of Float32 scalars it holds.
    var count: Int { get }
}

/// The storage of a tensor: `count` Float32 scalars in host memory (recycled through `BufferPool`, so
/// an eager op costs no `malloc` in steady state) or in a device's memory (an opaque handle).
final class TensorBuffer {
    let count: Int
    private let host: UnsafeMutablePointer<Float>?
    let memory: (any DeviceMemory)?
    /// The buffer whose host memory this one is a window of (`init(window:offset:count:)`), kept alive
    /// by it; nil for a buffer that owns its memory.
    private let viewed: TensorBuffer?

    init(count: Int) {
        self.count = count
        self.host = BufferPool.shared.take(count)
        self.memory = nil
        self.viewed = nil
    }

    init(memory: any DeviceMemory) {
        self.count = memory.count
        self.host = nil
        self.memory = memory
        self.viewed = nil
    }

    /// `count` scalars of a host buffer from `offset`, without a copy: a batch of a data set's rows.
    /// Writes through it would change the viewed buffer, so copy-on-write always copies it first
    /// (`isView`).
    init(window buffer: TensorBuffer, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= buffer.count, "a window past the end of its buffer")
        let root = buffer.viewed ?? buffer
        self.count = count
        self.host = buffer.base + offset
        self.memory = nil
        self.viewed = root
    }

    /// Whether this buffer is a window of another's memory.
    var isView: Bool { viewed != nil }

    /// Whether both buffers are the same scalars of one allocation: one buffer, or windows of the
    /// same rows (a window of another buffer's rows at another place holds other scalars).
    func holdsSameScalars(as other: TensorBuffer) -> Bool {
        self === other || ((viewed ?? self) === (other.viewed ?? other) && host == other.host && count == other.count)
    }

    var device: Device { memory?.device ?? .cpu }

    /// The host scalars. Only host code (the CPU backend, file IO) reads them, and only from host
    /// tensors: device memory is reached through its backend, so reaching here with one is a bug.
    var base: UnsafeMutablePointer<Float> {
        guard let host else { preconditionFailure("host access to memory on \(device): move the tensor with .to(.cpu)") }
        return host
    }

    deinit { if let host, viewed == nil { BufferPool.shared.give(host, count: count) } }
}

/// A free list of CPU allocations keyed by size. Training runs the same shapes every step,
/// so after the first step nearly every allocation is served from here.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    /// The idle buffers of one size. A class, so that taking and giving change its list in place: with
    /// the lists held in the dictionary itself, a single-sample inference call made 98 heap allocations,
    /// with shelves 59.
    private final class Shelf {
        var buffers: [UnsafeMutablePointer<Float>] = []
    }
    private var shelves: [Int: Shelf] = [:]
    private var pooledScalars = 0
    private let lock = NSLock()
    /// The most scalars kept idle (256 MiB); beyond it buffers go back to the allocator.
    private let capacity = 64 << 20
    /// Buffers above 16 MiB (whole data sets, not per-step tensors) go straight back to the allocator,
    /// so they cannot fill the pool that the per-step buffers need.
    private let largest = 4 << 20

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        lock.lock()
        if let p = shelves[n]?.buffers.popLast() {
            pooledScalars -= n
            lock.unlock()
            return p
        }
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        lock.lock()
        if n <= largest && pooledScalars + n <= capacity {
            let shelf: Shelf
            if let known = shelves[n] { shelf = known } else { shelf = Shelf(); shelves[n] = shelf }
            shelf.buffers.append(pointer)
            pooledScalars += n
            lock.unlock()
            return
        }
        lock.unlock()
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
