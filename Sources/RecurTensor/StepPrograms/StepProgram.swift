import Foundation

/// A recurrent cell's step as a static program: what `Tensor.traceStep` records from one call of the
/// step and what `Tensor.compiledRecurrence` runs at every timestep (see `CompiledRecurrence.swift`).
///
/// Values are numbered in the order the trace met them. Each is a step input, a state, a constant (a
/// tensor the step read that does not depend on its inputs or states — weights, dropout masks, numbers
/// written in the step; captured with its gradient history) or the result of an instruction. Shapes are
/// per step, batch first, as traced.
public struct StepProgram: Equatable {
    public enum ValueKind: Hashable, Sendable {
        case input(Int)
        case state(Int)
        case constant(Int)
        case computed
    }

    public struct Value: Hashable, Sendable {
        public var kind: ValueKind
        public var shape: [Int]
    }

    /// The ops a step program runs. Elementwise ops broadcast NumPy-style where the smaller operand's
    /// shape is a suffix of the result's, with its last extent the result's or 1.
    public enum Op: Hashable, Sendable {
        case unary(UnaryOp)
        case binary(BinaryOp)
        case scaled(Float)
        /// (…, m, k)·(k, n), either operand transposed when it has rank 2.
        case matmul(transposeA: Bool, transposeB: Bool)
        /// Columns `range` of the last axis (a view: no copy).
        case sliceLastAxis(Range<Int>)
        case concatenateLastAxis
        /// The same scalars with the result's shape (a view of a value with dense rows).
        case reshape
        /// `Tensor.lstmGateStep`: operands [z, c₋₁], results [h, c].
        case lstmGates
        /// `Tensor.gruGateStep`: operands [xproj, hproj, h₋₁], result h.
        case gruGates
    }

    public struct Instruction: Hashable, Sendable {
        public var op: Op
        public var operands: [Int]
        public var results: [Int]
    }

    public internal(set) var values: [Value] = []
    public internal(set) var instructions: [Instruction] = []
    /// The value of each step output and each new state.
    public internal(set) var outputs: [Int] = []
    public internal(set) var newStates: [Int] = []
    /// The captured tensors, by `ValueKind.constant` index.
    public internal(set) var constants: [Tensor] = []

    /// The program without its constants' values: what must match for a trace to reuse an earlier
    /// check (`Tensor.traceStep`'s `checkedStructures`).
    public struct Structure: Hashable, Sendable {
        let values: [Value]
        let instructions: [Instruction]
        let outputs: [Int]
        let newStates: [Int]
    }

    public var structure: Structure { Structure(values: values, instructions: instructions, outputs: outputs, newStates: newStates) }

    public static func == (a: StepProgram, b: StepProgram) -> Bool {
        a.values == b.values && a.instructions == b.instructions && a.outputs == b.outputs && a.newStates == b.newStates
            && a.constants.count == b.constants.count
            && zip(a.constants, b.constants).allSatisfy { $0.buffer === $1.buffer && $0.shape == $1.shape || $0.sameScalars(as: $1) }
    }
}

extension Tensor {
    /// Whether both tensors have the same shape and bit-for-bit equal scalars (host tensors only).
    func sameScalars(as other: Tensor) -> Bool {
        guard shape == other.shape, device == .cpu, other.device == .cpu else { return false }
        return memcmp(base, other.base, count * MemoryLayout<Float>.size) == 0
    }
}
