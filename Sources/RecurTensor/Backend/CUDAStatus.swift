import CRecurCUDA
import Foundation

/// Whether this machine could run Recur on an NVIDIA GPU: the driver, cuBLAS and cuDNN 9 are looked
/// for at run time (`dlopen`), so the same binary runs on machines with and without them. Where it is
/// `.available`, `Device.cuda(_:)` runs on `CUDABackend`; elsewhere using it throws this reason.
public enum CUDAStatus: Sendable, Equatable, CustomStringConvertible {
    /// A usable device: the driver's CUDA version (e.g. 13000), its device count and cuDNN's version
    /// (e.g. 91400).
    case available(driverVersion: Int, devices: Int, cuDNNVersion: Int)
    /// Why not, in one line: no driver, no device, no cuBLAS, no cuDNN 9.
    case unavailable(reason: String)

    /// This machine's status, probed once; `$RECUR_CUDA_LIB_PATH` names a folder to search first.
    public static let current = probe(libraryFolder: ProcessInfo.processInfo.environment["RECUR_CUDA_LIB_PATH"])

    /// Probes for NVIDIA's libraries, looking in `libraryFolder` first when given.
    public static func probe(libraryFolder: String?) -> CUDAStatus {
        var info = recur_cuda_info()
        var reason = [CChar](repeating: 0, count: 512)
        let failed = reason.withUnsafeMutableBufferPointer { buffer in
            recur_cuda_probe(libraryFolder, &info, buffer.baseAddress, buffer.count)
        }
        guard failed == 0 else {
            return .unavailable(reason: String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return .available(driverVersion: Int(info.driver_version), devices: Int(info.device_count), cuDNNVersion: Int(info.cudnn_version))
    }

    /// Why a CUDA device cannot run here, in one line: the probe's reason, or — where the libraries
    /// are usable — why the device does not open (`CUDABackend.shared(ordinal:)`); nil when it opens.
    public var whyCUDACannotRun: String? {
        if case .unavailable(let reason) = self { return reason }
        do {
            _ = try CUDABackend.shared(ordinal: 0)
            return nil
        } catch let error as RecurError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    public var description: String {
        switch self {
        case .available(let driver, let devices, let cuDNN):
            "CUDA \(driver / 1000).\(driver % 1000 / 10), \(devices) device(s), cuDNN \(cuDNN / 10000).\(cuDNN % 10000 / 100).\(cuDNN % 100)"
        case .unavailable(let reason): reason
        }
    }
}

extension Device {
    /// The CUDA device with this ordinal (PyTorch's `cuda:0`), computed by `CUDABackend`; where CUDA
    /// cannot run, using it throws `CUDAStatus.current`'s reason.
    public static func cuda(_ ordinal: Int = 0) -> Device { .accelerator("cuda:\(ordinal)") }

    /// Whether this is a CUDA device (`Device.cuda(_:)`).
    public var isCUDA: Bool { cudaOrdinal != nil }

    /// The ordinal of a CUDA device.
    var cudaOrdinal: Int? {
        guard case .accelerator(let name) = self, name.hasPrefix("cuda:") else { return nil }
        return Int(name.dropFirst(5))
    }
}
