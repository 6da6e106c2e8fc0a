import Foundation

/// Applies the layer's `fused` mode to the backend's decline reason: `.always` throws it, `.auto` logs it once
/// per layer on standard error and falls back, `.never` falls back silently (the user asked for it).
/// Returns whether the fused kernel runs.
func chooseFusedKernel(mode: FusedKernelMode, declineReason: FusedDeclineReason?, layer: String, logged: inout Bool) throws -> Bool {
    if mode == .never { return false }
    guard let reason = declineReason else { return true }
    if mode == .always {
        throw RecurError.unsupported(op: layer, message: "the fused kernel cannot run because \(reason) (fused: .always)")
    }
    if !logged {
        logged = true
        FileHandle.standardError.write(Data("recur: \(layer): using the cell loop, not the fused kernel, because \(reason)\n".utf8))
    }
    return false
}
