import CRecurKernels
import Foundation

extension Tensor {
    /// Applies a vectorised kernel `y = f(x)` into a new tensor.
    private func map(_ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        kernel(base, out.base, count)
        return out
    }

    /// eˣ elementwise.
    public func exp() -> Tensor {
        var out = map(recur_exp)
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g * y] }
        return out
    }

    /// Natural logarithm elementwise.
    public func log() -> Tensor {
        var out = map(recur_log)
        let x = detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g / x] }
        return out
    }

    /// Hyperbolic tangent elementwise; dy/dx = 1 − y².
    public func tanh() -> Tensor {
        var out = map(recur_tanh)
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in
            let dx = Tensor(uninitializedShape: y.shape)
            recur_tanh_backward(y.base, g.base, dx.base, y.count)
            return [dx]
        }
        return out
    }

    /// Logistic sigmoid 1/(1+e⁻ˣ) elementwise; dy/dx = y(1 − y).
    public func sigmoid() -> Tensor {
        var out = map(recur_sigmoid)
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in
            let dx = Tensor(uninitializedShape: y.shape)
            recur_sigmoid_backward(y.base, g.base, dx.base, y.count)
            return [dx]
        }
        return out
    }

    /// max(x, 0) elementwise.
    public func relu() -> Tensor {
        var out = map(recur_relu)
        let x = detached
        Tensor.record(&out, inputs: [self]) { g, _ in
            let dx = Tensor(uninitializedShape: x.shape)
            recur_relu_backward(x.base, g.base, dx.base, x.count)
            return [dx]
        }
        return out
    }

    /// x² elementwise.
    public func squared() throws -> Tensor { try self * self }

    /// √x elementwise.
    public func sqrt() throws -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        for i in 0..<count { out.base[i] = Foundation.sqrt(base[i]) }
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in [try g / y.scaled(by: 2)] }
        return out
    }

    /// |x| elementwise; the gradient at 0 is 0.
    public func abs() throws -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let sign = Tensor(uninitializedShape: shape)
        for i in 0..<count {
            out.base[i] = Swift.abs(base[i])
            sign.base[i] = base[i] > 0 ? 1 : (base[i] < 0 ? -1 : 0)
        }
        Tensor.record(&out, inputs: [self]) { g, _ in [try g * sign] }
        return out
    }
}
