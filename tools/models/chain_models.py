#!/usr/bin/python3
"""Write long-chain ONNX models for the plan-build scaling benchmark (bench/build_scaling.sh).

Usage: /usr/bin/python3 tools/models/chain_models.py OUT.onnx relu|convbn NODES
  relu    data [N,3,8,8] -> NODES Relu nodes -> Flatten
  convbn  data [N,3,8,8] -> NODES/3 blocks of 1x1 Conv + BatchNormalization + Relu -> Flatten
Weights are fixed (no randomness): the models exist to be built, not to classify.
Needs only Debian's python3-onnx and python3-numpy.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def relu_chain(nodes):
    graph_nodes, x = [], "data"
    for i in range(nodes):
        graph_nodes.append(helper.make_node("Relu", [x], [f"r{i}"], name=f"relu{i}"))
        x = f"r{i}"
    return graph_nodes, x, []


def convbn_chain(nodes):
    inits = [numpy_helper.from_array(np.full((3, 3, 1, 1), 0.3, np.float32), "w")]
    for name, value in (("s", 1.0), ("b", 0.1), ("m", 0.0), ("v", 1.0)):
        inits.append(numpy_helper.from_array(np.full((3,), value, np.float32), name))
    graph_nodes, x = [], "data"
    for i in range(nodes // 3):
        graph_nodes += [helper.make_node("Conv", [x, "w"], [f"c{i}"], name=f"conv{i}"),
                        helper.make_node("BatchNormalization", [f"c{i}", "s", "b", "m", "v"], [f"bn{i}"], name=f"bn{i}"),
                        helper.make_node("Relu", [f"bn{i}"], [f"r{i}"], name=f"relu{i}")]
        x = f"r{i}"
    return graph_nodes, x, inits


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("relu", "convbn"):
        sys.exit(__doc__)
    out, kind, nodes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    graph_nodes, last, inits = (relu_chain if kind == "relu" else convbn_chain)(nodes)
    graph_nodes.append(helper.make_node("Flatten", [last], ["prob"], name="flatten"))
    graph = helper.make_graph(graph_nodes, kind + "_chain",
                              [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, out)


if __name__ == "__main__":
    main()
