import Foundation

/// Keras's rule for the fused (cuDNN-style) path, checked before every sequence. Returns the reason
/// the fused kernel cannot run, or nil when it can. Unlike cuDNN, Recur's fused kernels take any mask,
/// not only right-padded ones.
func fusedKernelDeclineReason(activation: Activation, recurrentActivation: Activation?, useBias: Bool,
                              recurrentDropout: Float, unroll: Bool) -> String? {
    if activation != .tanh { return "activation is \(activation.rawValue), not tanh" }
    if let recurrentActivation, recurrentActivation != .sigmoid { return "recurrentActivation is \(recurrentActivation.rawValue), not sigmoid" }
    if !useBias { return "useBias is false" }
    if recurrentDropout > 0 { return "recurrentDropout > 0" }
    if unroll { return "unroll is true" }
    return nil
}

/// Applies the layer's `fused` mode to a decline reason: `.always` throws it, `.auto` logs it once
/// per layer on standard error and falls back, `.never` falls back silently (the user asked for it).
/// Returns whether the fused kernel runs.
func chooseFusedKernel(mode: FusedKernelMode, declineReason: String?, layer: String, logged: inout Bool) throws -> Bool {
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
