import Foundation

import CRecurKernels

extension Tensor {
    /// Softmax over the last axis: yᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x).
    public func softmax() throws -> Tensor {
        let y = try logSoftmax().detached.exp()
        var out = y
        Tensor.record(&out, inputs: [self]) { g, _ in
            // dx = y ⊙ (g − Σ g⊙y)
            [try y * (g - (g * y).sum(alongAxis: -1, keepingDimensions: true))]
        }
        return out
    }

    /// log(softmax(x)) over the last axis, computed stably.
    public func logSoftmax() throws -> Tensor {
        guard rank >= 1, let classes = shape.last, classes > 0 else {
            throw RecurError.shapeMismatch(op: "logSoftmax", expected: "a tensor with a non-empty last axis", actual: describeShape(shape))
        }
        var out = Tensor(uninitializedShape: shape)
        let rows = count / classes
        var scratch = [Float](repeating: 0, count: classes)
        for r in 0..<rows {
            let x = base + r * classes, y = out.base + r * classes
            var m = x[0]
            for k in 1..<classes where x[k] > m { m = x[k] }
            for k in 0..<classes { scratch[k] = x[k] - m }
            scratch.withUnsafeMutableBufferPointer { recur_exp($0.baseAddress!, $0.baseAddress!, classes) }
            var s: Double = 0
            for k in 0..<classes { s += Double(scratch[k]) }
            let logSum = m + Float(Foundation.log(s))
            for k in 0..<classes { y[k] = x[k] - logSum }
        }
        let y = out.detached
        Tensor.record(&out, inputs: [self]) { g, _ in
            // dx = g − softmax ⊙ Σ g
            [try g - y.exp() * g.sum(alongAxis: -1, keepingDimensions: true)]
        }
        return out
    }
}
