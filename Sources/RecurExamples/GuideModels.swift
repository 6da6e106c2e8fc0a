import Recur

/// The models of the Keras RNN guide, written with Recur.
public enum GuideModels {
    /// Embedding(1000, 64) → LSTM(128) → Dense(10). Total params 164,106.
    public static func embeddingLSTM() throws -> Sequential {
        let model = try Sequential()
        try model.add(Embedding(inputDim: 1000, outputDim: 64))
        try model.add(LSTM(128))
        try model.add(Dense(10))
        return model
    }

    /// Embedding(1000, 64) → GRU(256, returnSequences) → SimpleRNN(128) → Dense(10). Total params 361,866.
    public static func gruSimpleRNN() throws -> Sequential {
        try Sequential([
            Embedding(inputDim: 1000, outputDim: 64),
            GRU(256, returnSequences: true),
            SimpleRNN(128),
            Dense(10),
        ])
    }

    /// The encoder–decoder: the encoder LSTM's final states are the decoder LSTM's initial state.
    /// Total params 258,698.
    public static func encoderDecoder(encoderVocabulary: Int = 1000, decoderVocabulary: Int = 2000) throws -> Model {
        let encoderInput = Input(shape: [nil])
        let encoderEmbedded = try Embedding(inputDim: encoderVocabulary, outputDim: 64)(encoderInput)
        let encoderOutputs = try LSTM(64, returnState: true, name: "encoder").outputs(encoderEmbedded)
        let encoderState = Array(encoderOutputs[1...])
        let decoderInput = Input(shape: [nil])
        let decoderEmbedded = try Embedding(inputDim: decoderVocabulary, outputDim: 64)(decoderInput)
        let decoderOutput = try LSTM(64, name: "decoder")(decoderEmbedded, initialState: encoderState)
        let output = try Dense(10)(decoderOutput)
        return try Model(inputs: [encoderInput, decoderInput], outputs: output)
    }

    /// Two Bidirectional LSTMs over (5, 10) inputs → Dense(10). Total params 80,266.
    public static func bidirectional() throws -> Sequential {
        try Sequential([
            Bidirectional(LSTM(64, returnSequences: true), inputShape: [5, 10]),
            Bidirectional(LSTM(32)),
            Dense(10),
        ])
    }

    /// Which recurrent layer the MNIST-row model uses.
    public enum RowCell: String, CaseIterable, Sendable {
        case lstm, gru, simplernn
    }

    /// The guide's MNIST-row model: a recurrent layer over 28 rows of 28 pixels, BatchNormalization,
    /// Dense(10) logits. `cellLoop: true` builds `RNN(LSTMCell(units))` (the guide's non-cuDNN model);
    /// `synchronizedBatchNorm` gives data-parallel training the global batch's statistics.
    public static func mnistRows(cell: RowCell = .lstm, units: Int = 64, inputDim: Int = 28, outputSize: Int = 10,
                                 fused: FusedKernelMode = .auto, cellLoop: Bool = false,
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
        }
        return try Sequential([recurrent, BatchNormalization(synchronized: synchronizedBatchNorm), Dense(outputSize)])
    }
}
