@_exported import RecurTensor
