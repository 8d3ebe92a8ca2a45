"""Serves exports with their own `portable.py`, in a process that imports neither toolkit nor TensorFlow.

Run as `python portable_answers.py JOBS.json`. JOBS.json lists cases, each
`{"folder": export, "inputs": .npy, "answers": .npz to write, "int8": bool}`.
Each case loads `portable.py` from its export folder, answers its inputs
with `predict`, and saves the answers. The last line printed is JSON: the
modules of TensorFlow, Keras or toolkit that were imported (none, or the
test fails), and those of the runtimes that were.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np


def answer(case: dict, index: int) -> None:
    module_spec = importlib.util.spec_from_file_location(f"portable_{index}", f"{case['folder']}/portable.py")
    portable = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(portable)
    model = portable.load(case["folder"], int8=case.get("int8", False))
    inputs = np.load(case["inputs"], allow_pickle=True)
    outputs = model.predict(inputs.tolist() if inputs.dtype.kind in "OU" else inputs)
    np.savez(
        case["answers"],
        **{name: np.asarray(value, dtype=str if value.dtype == object else None) for name, value in outputs.items()},
    )


def main(jobs_path: str) -> None:
    for index, case in enumerate(json.loads(Path(jobs_path).read_text())):
        answer(case, index)
    modules = sorted(sys.modules)
    print(
        json.dumps(
            {
                "forbidden": [
                    name for name in modules if name.split(".")[0] in ("tensorflow", "keras", "toolkit", "tf2onnx")
                ],
                "runtimes": [name for name in modules if name in ("onnxruntime", "ai_edge_litert")],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
