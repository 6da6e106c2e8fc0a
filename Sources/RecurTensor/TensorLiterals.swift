/// Tensors from Swift values: nested arrays of any rank, integer ids, array literals.
///
///     let x = try Tensor([[1, 2, 3], [4, 5, 6]])      // shape (2, 3), from [[Int]]
///     let ids = Tensor([3, 14, 15, 92])                // token ids, shape (4,)
///     let w: Tensor = [[0.5, -1], [2, 0.25]]           // an array literal, shape (2, 2)

/// A scalar a tensor can be made from (stored as Float32, as every Recur tensor).
public protocol TensorScalarConvertible {
    var tensorScalar: Float { get }
}

extension Float: TensorScalarConvertible { public var tensorScalar: Float { self } }
extension Double: TensorScalarConvertible { public var tensorScalar: Float { Float(self) } }
extension Int: TensorScalarConvertible { public var tensorScalar: Float { Float(self) } }
extension Int32: TensorScalarConvertible { public var tensorScalar: Float { Float(self) } }
extension UInt8: TensorScalarConvertible { public var tensorScalar: Float { Float(self) } }

/// A value of nested arrays (or one scalar) that `Tensor(_:)` reads: every row at one depth must have
/// the same length.
public protocol NestedTensorValues {
    /// Appends the scalars in row-major order and checks the shape below `depth`.
    func appendScalars(to scalars: inout [Float], shape: inout [Int], depth: Int, path: [Int]) throws
}

extension NestedTensorValues where Self: TensorScalarConvertible {
    public func appendScalars(to scalars: inout [Float], shape: inout [Int], depth: Int, path: [Int]) throws {
        if depth < shape.count {
            throw RecurError.shapeMismatch(op: "Tensor", expected: "a list of \(shape[depth]) values at \(describePath(path))",
                                           actual: "a scalar")
        }
        scalars.append(tensorScalar)
    }
}

extension Float: NestedTensorValues {}
extension Double: NestedTensorValues {}
extension Int: NestedTensorValues {}
extension Int32: NestedTensorValues {}
extension UInt8: NestedTensorValues {}

extension Array: NestedTensorValues where Element: NestedTensorValues {
    public func appendScalars(to scalars: inout [Float], shape: inout [Int], depth: Int, path: [Int]) throws {
        if depth == shape.count {
            // The first row reaching this depth fixes its length; a scalar seen before here would not.
            guard scalars.isEmpty || path.allSatisfy({ $0 == 0 }) else {
                throw RecurError.shapeMismatch(op: "Tensor", expected: "a scalar at \(describePath(path))", actual: "a list of \(count)")
            }
            shape.append(count)
        } else if shape[depth] != count {
            throw RecurError.shapeMismatch(op: "Tensor", expected: "\(shape[depth]) values in the row at \(describePath(path)) (ragged rows)",
                                           actual: "\(count)")
        }
        for (i, element) in enumerated() {
            try element.appendScalars(to: &scalars, shape: &shape, depth: depth + 1, path: path + [i])
        }
    }
}

/// `[1][0]` for a row's position, `the top level` for none.
private func describePath(_ path: [Int]) -> String {
    path.isEmpty ? "the top level" : path.map { "[\($0)]" }.joined()
}

extension Tensor {
    /// A tensor from nested arrays of any rank (`[[1, 2], [3, 4]]` is (2, 2)); rows of different
    /// lengths throw an error naming the first ragged row.
    public init<Values: NestedTensorValues>(_ values: Values) throws {
        var scalars: [Float] = [], shape: [Int] = []
        try values.appendScalars(to: &scalars, shape: &shape, depth: 0, path: [])
        // An empty list leaves the dimensions below it unknown: they are 0.
        try self.init(shape: shape, scalars: scalars)
    }

    /// A rank-0 tensor from an integer or a Double (what the literals `7` and `0.5` are by default).
    public init(_ scalar: Int) { self.init(Float(scalar)) }
    public init(_ scalar: Double) { self.init(Float(scalar)) }

    /// A rank-1 tensor from Doubles (what a literal like `[0.5, 2]` is by default), rounded to Float32.
    public init(_ values: [Double]) {
        self.init(values.map(Float.init))
    }

    /// A rank-1 tensor of integers (token ids, class labels), held as whole Float32 values.
    public init(_ ids: [Int]) {
        self.init(ids.map(Float.init))
    }

    /// A tensor of integers (token ids, class labels) in row-major order.
    public init(shape: [Int], ids: [Int]) throws {
        try self.init(shape: shape, scalars: ids.map(Float.init))
    }
}

/// One element of a tensor array literal: a number or a nested list.
public struct TensorLiteralElement: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    enum Value { case scalar(Float), list([TensorLiteralElement]) }
    let value: Value

    public init(floatLiteral value: Float) { self.value = .scalar(value) }
    public init(integerLiteral value: Int) { self.value = .scalar(Float(value)) }
    public init(arrayLiteral elements: TensorLiteralElement...) { value = .list(elements) }
}

extension TensorLiteralElement: NestedTensorValues {
    public func appendScalars(to scalars: inout [Float], shape: inout [Int], depth: Int, path: [Int]) throws {
        switch value {
        case .scalar(let x): try x.appendScalars(to: &scalars, shape: &shape, depth: depth, path: path)
        case .list(let items): try items.appendScalars(to: &scalars, shape: &shape, depth: depth, path: path)
        }
    }
}

extension Tensor: ExpressibleByArrayLiteral {
    /// `let w: Tensor = [[1, 2], [3, 4]]`. A literal is written in the source, so ragged rows are a
    /// programming error: it stops with a message naming the row (`Tensor(_:)` throws instead).
    public init(arrayLiteral elements: TensorLiteralElement...) {
        do { try self.init(elements) } catch { preconditionFailure("\(error)") }
    }
}
