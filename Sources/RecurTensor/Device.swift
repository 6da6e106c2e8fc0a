import Foundation

/// Where a tensor's scalars live. Ops dispatch on the device of their operands;
/// the CPU is the only device today, and a CUDA device can join behind the same seam.
public enum Device: Sendable, Equatable, CustomStringConvertible {
    case cpu

    public var description: String { "cpu" }
}

/// The storage of a tensor: `count` Float32 scalars on one device.
/// Buffers are recycled through `BufferPool` so an eager op costs no `malloc` in steady state.
final class TensorBuffer {
    let device: Device
    let count: Int
    let base: UnsafeMutablePointer<Float>

    init(count: Int, device: Device = .cpu) {
        self.device = device
        self.count = count
        self.base = BufferPool.shared.take(count)
    }

    deinit { BufferPool.shared.give(base, count: count) }
}

/// A free list of CPU allocations keyed by size. Training runs the same shapes every step,
/// so after the first step nearly every allocation is served from here.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
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
        if var list = free[n], let p = list.popLast() {
            free[n] = list
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
            free[n, default: []].append(pointer)
            pooledScalars += n
            lock.unlock()
            return
        }
        lock.unlock()
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
