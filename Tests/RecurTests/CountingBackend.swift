import Foundation
@testable import Recur

/// Memory of the counting device: a host tensor that only `CountingBackend` reads.
final class CountingMemory: DeviceMemory {
    let device: Device
    let host: Tensor
    var count: Int { host.count }
    init(device: Device, host: Tensor) { self.device = device; self.host = host.detached }
}

/// A second device for the tests: it computes every op with the CPU backend, counting the calls, and
/// keeps its tensors' scalars behind `CountingMemory`, so that any code that reaches for host memory
/// of its tensors instead of going through the backend fails.
final class CountingBackend: Backend, @unchecked Sendable {
    let device: Device
    private let cpu = CPUBackend.shared
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    init(name: String) { device = .accelerator(name) }

    var calls: [String: Int] { lock.lock(); defer { lock.unlock() }; return counts }

    private func count(_ name: String) { lock.lock(); counts[name, default: 0] += 1; lock.unlock() }

    private func host(_ x: Tensor) -> Tensor {
        guard let memory = x.memory as? CountingMemory, memory.device == device else {
            preconditionFailure("CountingBackend got a tensor of \(x.device)")
        }
        return try! memory.host.reshaped(to: x.shape)
    }

    private func wrap(_ x: Tensor) -> Tensor { try! Tensor(shape: x.shape, memory: CountingMemory(device: device, host: x)) }

    func upload(_ host: Tensor) throws -> Tensor { count("upload"); return wrap(host.detached) }
    func download(_ x: Tensor) throws -> Tensor { count("download"); return host(x) }
    func filled(_ value: Float, shape: [Int]) -> Tensor { count("filled"); return wrap(cpu.filled(value, shape: shape)) }
    func unary(_ op: UnaryOp, _ x: Tensor) -> Tensor { count("unary"); return wrap(cpu.unary(op, host(x))) }
    func unaryGradient(_ op: UnaryOp, input: Tensor, output: Tensor, gradient: Tensor) -> Tensor {
        count("unaryGradient"); return wrap(cpu.unaryGradient(op, input: host(input), output: host(output), gradient: host(gradient)))
    }
    func scaled(_ x: Tensor, by alpha: Float) -> Tensor { count("scaled"); return wrap(cpu.scaled(host(x), by: alpha)) }
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, shape: [Int]) -> Tensor {
        count("binary"); return wrap(cpu.binary(op, host(a), host(b), shape: shape))
    }
    func matmul(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool, batch: Int, sharedB: Bool, m: Int, n: Int, k: Int, shape: [Int]) -> Tensor {
        count("matmul")
        return wrap(cpu.matmul(host(a), transposeA: transposeA, host(b), transposeB: transposeB, batch: batch, sharedB: sharedB, m: m, n: n, k: k, shape: shape))
    }
    func sum(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        count("sum"); return wrap(cpu.sum(host(x), outer: outer, n: n, inner: inner, shape: shape))
    }
    func argmax(_ x: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        count("argmax"); return wrap(cpu.argmax(host(x), outer: outer, n: n, inner: inner, shape: shape))
    }
    func pick(_ x: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        count("pick"); return wrap(cpu.pick(host(x), indices: host(indices), outer: outer, n: n, inner: inner, shape: shape))
    }
    func unpick(_ gradient: Tensor, indices: Tensor, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        count("unpick"); return wrap(cpu.unpick(host(gradient), indices: host(indices), outer: outer, n: n, inner: inner, shape: shape))
    }
    func gatherRows(_ table: Tensor, rows: [Int], shape: [Int]) -> Tensor { count("gatherRows"); return wrap(cpu.gatherRows(host(table), rows: rows, shape: shape)) }
    func scatterAddRows(_ gradient: Tensor, rows: [Int], shape: [Int]) -> Tensor {
        count("scatterAddRows"); return wrap(cpu.scatterAddRows(host(gradient), rows: rows, shape: shape))
    }
    func transposed(_ x: Tensor, permutation: [Int], shape: [Int]) -> Tensor {
        count("transposed"); return wrap(cpu.transposed(host(x), permutation: permutation, shape: shape))
    }
    func slice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor {
        count("slice"); return wrap(cpu.slice(host(x), outer: outer, n: n, inner: inner, range: range, shape: shape))
    }
    func unslice(_ x: Tensor, outer: Int, n: Int, inner: Int, range: Range<Int>, shape: [Int]) -> Tensor {
        count("unslice"); return wrap(cpu.unslice(host(x), outer: outer, n: n, inner: inner, range: range, shape: shape))
    }
    func concatenate(_ parts: [Tensor], outer: Int, inner: Int, shape: [Int]) -> Tensor {
        count("concatenate"); return wrap(cpu.concatenate(parts.map(host), outer: outer, inner: inner, shape: shape))
    }
    func reversed(_ x: Tensor, outer: Int, n: Int, inner: Int) -> Tensor { count("reversed"); return wrap(cpu.reversed(host(x), outer: outer, n: n, inner: inner)) }
    func logSoftmax(_ x: Tensor, classes: Int) -> Tensor { count("logSoftmax"); return wrap(cpu.logSoftmax(host(x), classes: classes)) }
    func batchNormalization(_ x: Tensor, features: Int, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> (y: Tensor, mean: Tensor, variance: Tensor) {
        count("batchNormalization")
        let (y, mean, variance) = cpu.batchNormalization(host(x), features: features, gamma: gamma.map(host), beta: beta.map(host), epsilon: epsilon)
        return (wrap(y), wrap(mean), wrap(variance))
    }
    func batchNormalizationGradients(_ x: Tensor, gradient: Tensor, features: Int, mean: Tensor, variance: Tensor, gamma: Tensor?,
                                     epsilon: Float) -> (x: Tensor, gamma: Tensor, beta: Tensor) {
        count("batchNormalizationGradients")
        let (dx, dGamma, dBeta) = cpu.batchNormalizationGradients(host(x), gradient: host(gradient), features: features, mean: host(mean),
                                                                  variance: host(variance), gamma: gamma.map(host), epsilon: epsilon)
        return (wrap(dx), wrap(dGamma), wrap(dBeta))
    }
    func random(_ distribution: RandomDistribution, shape: [Int], generator: inout SeededGenerator) -> Tensor {
        count("random"); return wrap(cpu.random(distribution, shape: shape, generator: &generator))
    }
    func update(_ value: inout Tensor, by rule: UpdateRule, gradient: Tensor, slots: inout [Tensor]) throws {
        count("update")
        var (hostValue, hostSlots) = (host(value), slots.map(host))
        try cpu.update(&hostValue, by: rule, gradient: host(gradient), slots: &hostSlots)
        value = wrap(hostValue)
        slots = hostSlots.map(wrap)
    }
    func recurrenceDeclineReason(_ kind: RecurrenceKind, _ options: RecurrenceOptions, mask: Tensor?) throws -> FusedDeclineReason? {
        cpu.recurrenceDeclineReason(kind, options, mask: mask)
    }
    func recurrence(_ kind: RecurrenceKind, _ x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, initialStates: [Tensor],
                    mask: Tensor?, reverse: Bool, returnSequence: Bool, zeroMaskedOutputs: Bool,
                    savingForBackward: Bool) throws -> (outputs: [Tensor], backward: RecurrenceBackward) {
        count("recurrence")
        let (outputs, backward) = try cpu.recurrence(kind, host(x), kernel: host(kernel), recurrentKernel: host(recurrentKernel), bias: host(bias),
                                                     initialStates: initialStates.map(host), mask: mask.map(host), reverse: reverse,
                                                     returnSequence: returnSequence, zeroMaskedOutputs: zeroMaskedOutputs,
                                                     savingForBackward: savingForBackward)
        return (outputs.map(wrap), { [self] grads, need in
            self.count("recurrenceBackward")
            return try backward(grads.map { $0.map(self.host) }, need).map { $0.map(self.wrap) }
        })
    }
    func lstmGates(_ z: Tensor, cPrev: Tensor) -> (h: Tensor, c: Tensor, backward: ([Tensor?]) -> [Tensor]) {
        count("lstmGates")
        let step = cpu.lstmGates(host(z), cPrev: host(cPrev))
        return (wrap(step.h), wrap(step.c), { [self] grads in step.backward(grads.map { $0.map(self.host) }).map(self.wrap) })
    }
    func gruGates(xproj: Tensor, hproj: Tensor, hPrev: Tensor) -> (h: Tensor, backward: (Tensor) -> [Tensor]) {
        count("gruGates")
        let step = cpu.gruGates(xproj: host(xproj), hproj: host(hproj), hPrev: host(hPrev))
        return (wrap(step.h), { [self] grad in step.backward(self.host(grad)).map(self.wrap) })
    }
}
