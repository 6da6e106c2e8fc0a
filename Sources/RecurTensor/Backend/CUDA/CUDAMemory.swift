import CRecurCUDA
import Foundation

/// A tensor's scalars in a CUDA device's memory, from `CUDAMemoryPool`, to which it returns them when
/// freed (no synchronisation: the pool hands them only to ops queued later on the same stream).
final class CUDAMemory: DeviceMemory {
    let device: Device
    let count: Int
    let address: recur_devptr
    private let pool: CUDAMemoryPool

    init(device: Device, count: Int, pool: CUDAMemoryPool) {
        self.device = device
        self.count = count
        self.pool = pool
        self.address = pool.take(bytes: Swift.max(count, 1) * 4)
    }

    deinit { pool.give(address, bytes: Swift.max(count, 1) * 4) }
}

/// Device allocations kept for reuse by size, as `BufferPool` does on the host: `cuMemAlloc` and
/// `cuMemFree` synchronise the device, and training allocates the same shapes every step. When the
/// device runs out of memory the idle allocations are freed and the allocation tried once more.
final class CUDAMemoryPool: @unchecked Sendable {
    private var free: [Int: [recur_devptr]] = [:]
    private var idleBytes = 0
    private let lock = NSLock()
    /// The most bytes kept idle (4 GiB); beyond it freed memory goes back to the driver.
    private let capacity = 4 << 30

    func take(bytes: Int) -> recur_devptr {
        lock.lock()
        if let p = free[bytes]?.popLast() {
            idleBytes -= bytes
            lock.unlock()
            return p
        }
        lock.unlock()
        var p: recur_devptr = 0
        if recur_cuMemAlloc_v2(&p, bytes) != 0 {
            releaseIdle()
            CUDAContext.require(recur_cuMemAlloc_v2(&p, bytes), "cuMemAlloc of \(bytes) bytes")
        }
        return p
    }

    func give(_ pointer: recur_devptr, bytes: Int) {
        lock.lock()
        if idleBytes + bytes <= capacity {
            free[bytes, default: []].append(pointer)
            idleBytes += bytes
            lock.unlock()
            return
        }
        lock.unlock()
        _ = recur_cuMemFree_v2(pointer)
    }

    /// Frees every idle allocation.
    func releaseIdle() {
        lock.lock()
        let all = free.values.flatMap { $0 }
        free = [:]
        idleBytes = 0
        lock.unlock()
        for p in all { _ = recur_cuMemFree_v2(p) }
    }
}
