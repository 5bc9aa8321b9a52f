"""What ``onnx.export`` raises when it cannot write a model (a RuntimeError, as torch.onnx's exporter errors are)."""


class UnsupportedLayerError(RuntimeError):
    """The model has a layer (or an operation between layers) that ``export`` cannot write as ONNX."""
