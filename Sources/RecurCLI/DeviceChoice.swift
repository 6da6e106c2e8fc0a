import ArgumentParser
import Recur

/// `--device auto|cpu|cuda` of `train`, `predict` and `bench`: where the model runs.
enum DeviceChoice: String, ExpressibleByArgument, CaseIterable {
    /// The CPU: the only backend this build of Recur has.
    case auto
    case cpu
    /// An NVIDIA GPU: refused with the one-line reason (no driver, no device, no cuDNN 9, or no CUDA
    /// backend in this build).
    case cuda

    static let help = ArgumentHelp("Where to run: auto (the CPU in this build), cpu or cuda (refused, with the reason, until Recur has a CUDA backend).")

    /// Checks that the commands can run where asked: they run on the CPU, so `cuda` throws a validation
    /// error that says in one line why it cannot be used.
    func validate() throws {
        if self == .cuda { throw ValidationError("--device cuda: \(CUDAStatus.current.whyCUDACannotRun)") }
    }
}
