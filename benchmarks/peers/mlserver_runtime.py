"""MLServer's best shot at the exported model: a custom runtime (MLServer
has none for this ONNX model, and its scikit-learn runtime answers one
output per request) decoding V2 requests with the pandas codec, under its
adaptive batching. Configured by the model settings' `parameters.extra`:
model_dir, schema, backend (sklearn or onnx)."""

from pathlib import Path

import pandas as pd
from exported_model import ExportedModel
from mlserver import MLModel
from mlserver.codecs import PandasCodec
from mlserver.types import InferenceRequest, InferenceResponse


class ExportedModelRuntime(MLModel):
    async def load(self) -> bool:
        extra = self.settings.parameters.extra
        self.model = ExportedModel(
            Path(extra["model_dir"]), Path(extra["schema"]), extra["backend"]
        )
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        frame = self.decode_request(payload, default_codec=PandasCodec)
        records = frame.to_dict(orient="records")
        answers = pd.DataFrame(self.model.predict(records))
        return PandasCodec.encode_response(self.name, answers[["prediction"]])
