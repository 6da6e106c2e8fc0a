import ArgumentParser
import Recur

/// `--device auto|cpu|cuda` of `train`, `predict` and `bench`: where the model runs.
enum DeviceChoice: String, ExpressibleByArgument, CaseIterable {
    /// The first NVIDIA GPU when CUDA runs on this machine, else the CPU.
    case auto
    case cpu
    /// The first NVIDIA GPU (cuDNN 9); refused with the one-line reason where it cannot run (no driver,
    /// no device, no cuBLAS or cuDNN 9).
    case cuda

    static let help = ArgumentHelp("Where to run: auto (the GPU when CUDA can run here, else the CPU), cpu or cuda (an NVIDIA GPU with cuDNN 9).")

    /// Checks that the commands can run where asked: `cuda` throws a validation error that says in one
    /// line why it cannot be used.
    func validate() throws {
        if self == .cuda, let reason = CUDAStatus.current.whyCUDACannotRun { throw ValidationError("--device cuda: \(reason)") }
    }

    /// The device to run on.
    var device: Device {
        switch self {
        case .cpu: .cpu
        case .cuda: .cuda(0)
        case .auto: CUDAStatus.current.whyCUDACannotRun == nil ? .cuda(0) : .cpu
        }
    }
}
