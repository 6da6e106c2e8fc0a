import CMPI
import Foundation
import Recur

/// MPI's process-wide state: initialised once, finalised at exit, errors turned into `RecurError`s.
enum MPIRuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started = false

    /// `MPI_Init_thread` once per process, with errors returned rather than aborting.
    static func start() throws {
        lock.lock(); defer { lock.unlock() }
        guard !started else { return }
        var initialized: Int32 = 0
        try check(MPI_Initialized(&initialized), "MPI_Initialized")
        if initialized == 0 {
            var provided: Int32 = 0
            try check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "MPI_Init_thread")
            atexit {
                var finalized: Int32 = 0
                MPI_Finalized(&finalized)
                if finalized == 0 { MPI_Finalize() }
            }
        }
        try check(MPI_Comm_set_errhandler(recur_mpi_comm_world(), recur_mpi_errors_return()), "MPI_Comm_set_errhandler")
        started = true
    }

    /// Throws, with MPI's own message, unless `code` is `MPI_SUCCESS`.
    static func check(_ code: Int32, _ what: String) throws {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw RecurError.io(path: "MPI", message: "\(what) failed: \(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) (error \(code))")
    }

    /// An element count as MPI's `int`.
    static func count(_ n: Int, _ what: String) throws -> Int32 {
        guard let count = Int32(exactly: n) else {
            throw RecurError.invalidArgument(op: what, message: "\(n) values are more than one MPI call takes (\(Int32.max))")
        }
        return count
    }
}
