import CMPI
import Recur

/// Data-parallel training over MPI (Open MPI): `model.fit(…, distribution: MPIDataParallel())` in a
/// program started with `mpirun -np N`. The batch size given to `fit` is the global batch, as Keras's
/// tf.distribute: each rank computes its share of every batch and the gradients are summed over the
/// ranks, so N ranks train as one process does (see `fit`).
///
/// The first instance initialises MPI (`MPI_Init_thread`, serialized: Recur's worker threads never
/// call MPI) and MPI is finalised when the process exits; errors come back as thrown `RecurError`s
/// (`MPI_ERRORS_RETURN`). Started without `mpirun`, a program is a job of one process.
public final class MPIDataParallel: Collective {
    public let rank: Int
    public let size: Int

    public init() throws {
        try MPIRuntime.start()
        var rank: Int32 = 0, size: Int32 = 0
        try MPIRuntime.check(MPI_Comm_rank(recur_mpi_comm_world(), &rank), "MPI_Comm_rank")
        try MPIRuntime.check(MPI_Comm_size(recur_mpi_comm_world(), &size), "MPI_Comm_size")
        (self.rank, self.size) = (Int(rank), Int(size))
    }

    public func allReduceSum(_ values: inout [Float]) throws {
        try reduce(&values, type: recur_mpi_float(), what: "MPI_Allreduce (float)")
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        try reduce(&values, type: recur_mpi_double(), what: "MPI_Allreduce (double)")
    }

    public func broadcast(_ values: inout [Float], root: Int) throws {
        try broadcast(&values, type: recur_mpi_float(), root: root)
    }

    public func broadcast(_ values: inout [Double], root: Int) throws {
        try broadcast(&values, type: recur_mpi_double(), root: root)
    }

    /// Ends the whole job at once (every rank) with `code`: what a rank does when it cannot go on.
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(recur_mpi_comm_world(), code)
        fatalError("MPI_Abort returned")
    }

    private func reduce<T>(_ values: inout [T], type: MPI_Datatype, what: String) throws {
        let count = try MPIRuntime.count(values.count, what)
        try values.withUnsafeMutableBytes { buffer in
            try MPIRuntime.check(MPI_Allreduce(recur_mpi_in_place(), buffer.baseAddress, count, type, recur_mpi_sum(), recur_mpi_comm_world()), what)
        }
    }

    private func broadcast<T>(_ values: inout [T], type: MPI_Datatype, root: Int) throws {
        guard (0..<size).contains(root) else { throw RecurError.invalidArgument(op: "MPI_Bcast", message: "root \(root) is not a rank of 0..<\(size)") }
        let count = try MPIRuntime.count(values.count, "MPI_Bcast")
        try values.withUnsafeMutableBytes { buffer in
            try MPIRuntime.check(MPI_Bcast(buffer.baseAddress, count, type, Int32(root), recur_mpi_comm_world()), "MPI_Bcast")
        }
    }
}
