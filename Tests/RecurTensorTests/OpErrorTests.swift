import Testing
@testable import RecurTensor

@Suite("Bad input throws clear errors")
struct OpErrorTests {
    @Test func mismatchedShapesNameTheOpAndBothShapes() {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4])
        #expect(throws: RecurError.self) { try a + b }
        do { _ = try a * b } catch {
            #expect("\(error)".contains("multiply"))
            #expect("\(error)".contains("(2, 3)") && "\(error)".contains("(4,)"))
        }
        do { _ = try a.matmul(Tensor.zeros([2, 3])) } catch {
            #expect("\(error)".contains("matmul") && "\(error)".contains("3 vs 2"))
        }
    }

    @Test func rankErrors() {
        #expect(throws: RecurError.self) { try Tensor([1, 2]).matmul(Tensor.zeros([2, 2])) }
        #expect(throws: RecurError.self) { try Tensor.zeros([2, 3]).reshaped(to: [4, 2]) }
        #expect(throws: RecurError.self) { try Tensor.zeros([2, 3]).sum(alongAxis: 2) }
        #expect(throws: RecurError.self) { try Tensor.zeros([2, 3]).transposed([0, 0]) }
        #expect(throws: RecurError.self) { try Tensor.concatenate([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], alongAxis: 1) }
        #expect(throws: RecurError.self) { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
    }

    @Test func outOfRangeGatherIndices() {
        let table = Tensor.zeros([5, 2])
        #expect(throws: RecurError.self) { try table.gather(Tensor([5])) }
        #expect(throws: RecurError.self) { try table.gather(Tensor([-1])) }
        #expect(throws: RecurError.self) { try table.gather(Tensor([1.5])) }
        do { _ = try table.gather(Tensor([0, 7])) } catch {
            #expect("\(error)".contains("gather") && "\(error)".contains("7") && "\(error)".contains("(5, 2)"))
        }
    }
}
