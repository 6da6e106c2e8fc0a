import Recur

/// The guide's MNIST-row model in its variants (the CLI trains and benchmarks it; the other models of
/// the guide are built in `KerasGuide`).
public enum GuideModels {
    /// Which recurrent layer the MNIST-row model uses.
    public enum RowCell: String, CaseIterable, Sendable {
        case lstm, gru, simplernn
        /// `RNN(UserLSTMCell(units))`: an LSTM cell written from public ops, always in the cell loop.
        case userLSTM = "user-lstm"
        /// `RNN(MinimalGatedUnitCell(units))`, always in the cell loop.
        case minimalGatedUnit = "mgu"
    }

    /// The guide's MNIST-row model: a recurrent layer over 28 rows of 28 pixels, BatchNormalization,
    /// Dense(10) logits. `cellLoop: true` builds `RNN(LSTMCell(units))` (the guide's non-cuDNN model);
    /// `synchronizedBatchNorm` gives data-parallel training the global batch's statistics.
    public static func mnistRows(cell: RowCell = .lstm, units: Int = 64, inputDim: Int = 28, outputSize: Int = 10,
                                 fused: FusedKernelMode = .auto, cellLoop: Bool = false, compiled: CompiledLoopMode = .auto,
                                 synchronizedBatchNorm: Bool = false) throws -> Sequential {
        let shape: [Int?] = [nil, inputDim]
        let recurrent: Layer
        switch (cell, cellLoop) {
        case (.lstm, false): recurrent = LSTM(units, fused: fused, inputShape: shape)
        case (.gru, false): recurrent = GRU(units, fused: fused, inputShape: shape)
        case (.simplernn, false): recurrent = SimpleRNN(units, inputShape: shape)
        case (.lstm, true): recurrent = RNN(LSTMCell(units), inputShape: shape)
        case (.gru, true): recurrent = RNN(GRUCell(units), inputShape: shape)
        case (.simplernn, true): recurrent = RNN(SimpleRNNCell(units), inputShape: shape)
        case (.userLSTM, _): recurrent = RNN(UserLSTMCell(units: units), inputShape: shape)
        case (.minimalGatedUnit, _): recurrent = RNN(MinimalGatedUnitCell(units: units), inputShape: shape)
        }
        (recurrent as? RNN)?.compiled = compiled
        return Sequential([recurrent, BatchNormalization(synchronized: synchronizedBatchNorm), Dense(outputSize)])
    }
}
