"""NetBuilder: writes an ONNX graph layer by layer with random, calibrated weights.

Each layer is also run eagerly in NumPy on a fixed random calibration input (N(0,1), batch 1,
3x224x224), so the builder can rescale a layer's fresh He-initialised weights until its output
has the chosen standard deviation (LSUV). That keeps activations at a sane scale through any
depth, and the final logits at a spread where softmax gives probabilities that differ in many
digits (not a one-hot vector, not a uniform 0.001). Models are therefore calibrated for inputs
of unit scale, such as torchvision-normalised images or N(0,1) noise.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import npops

F32 = np.float32
OPSET = 13
IR_VERSION = 7
INPUT_SHAPE = (3, 224, 224)


class NetBuilder:
    """Appends ONNX nodes; every method takes and returns tensor names."""

    def __init__(self, graph_name, seed):
        self.graph_name = graph_name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.initializers = [], []
        self.param_count = 0  # learnable parameters, as torch counts them (no BN statistics)
        self.calib = {"data": self.rng.standard_normal((1,) + INPUT_SHAPE, dtype=F32)}
        self._clip_bounds = None

    # ---- plumbing -------------------------------------------------------------------------
    def _add_init(self, name, array, learnable=True):
        array = np.ascontiguousarray(array, dtype=F32)
        self.initializers.append(numpy_helper.from_array(array, name))
        if learnable:
            self.param_count += array.size
        return name

    def _add_node(self, op, inputs, out, value, **attrs):
        if out in self.calib:
            raise ValueError(f"{self.graph_name}: tensor name '{out}' used twice")
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        self.calib[out] = value.astype(F32, copy=False)
        return out

    def _he_normal(self, shape, fan_in):
        return self.rng.standard_normal(shape, dtype=F32) * F32(np.sqrt(2.0 / fan_in))

    def _small(self, size, scale=0.1):
        return self.rng.uniform(-scale, scale, size).astype(F32)

    @staticmethod
    def _rescale(w, y, target_std):
        """LSUV step: scale weights (and the already computed output) to the target spread."""
        s = F32(target_std / max(float(y.std()), 1e-12))
        return w * s, y * s

    def channels(self, x):
        return self.calib[x].shape[1]

    # ---- layers ---------------------------------------------------------------------------
    def conv(self, x, out, cout, k, stride=1, pad=0, group=1, bias=True, target_std=1.0,
             weight_names=None):
        """Conv; weight_names=(w, b) overrides the default '<out>_w' / '<out>_b'."""
        xin = self.calib[x]
        cin = xin.shape[1]
        w = self._he_normal((cout, cin // group, k, k), (cin // group) * k * k)
        y = npops.conv(xin, w, stride, pad, group)
        w, y = self._rescale(w, y, target_std)
        wname, bname = weight_names or (out + "_w", out + "_b")
        inputs = [x, self._add_init(wname, w)]
        if bias:
            b = self._small(cout) * F32(target_std)
            inputs.append(self._add_init(bname, b))
            y = y + b[None, :, None, None]
        return self._add_node("Conv", inputs, out, y, dilations=[1, 1], group=group,
                              kernel_shape=[k, k], pads=[pad] * 4, strides=[stride, stride])

    def batch_norm(self, x, out, prefix, eps=1e-5):
        """BatchNormalization with sane random statistics: scale ~1, var in [0.5, 1.5]."""
        c = self.channels(x)
        gamma = self.rng.uniform(0.8, 1.2, c).astype(F32)
        beta, mean = self._small(c), self._small(c)
        var = self.rng.uniform(0.5, 1.5, c).astype(F32)
        names = [self._add_init(prefix + ".weight", gamma), self._add_init(prefix + ".bias", beta),
                 self._add_init(prefix + ".running_mean", mean, learnable=False),
                 self._add_init(prefix + ".running_var", var, learnable=False)]
        y = npops.batch_norm(self.calib[x], gamma, beta, mean, var, eps)
        return self._add_node("BatchNormalization", [x] + names, out, y, epsilon=eps)

    def relu(self, x, out):
        return self._add_node("Relu", [x], out, np.maximum(self.calib[x], 0))

    def relu6(self, x, out):
        """Opset-13 Clip(0, 6): min and max are constant inputs, shared by all Clip nodes."""
        if self._clip_bounds is None:
            lo = numpy_helper.from_array(np.array(0.0, dtype=F32), "clip_min")
            hi = numpy_helper.from_array(np.array(6.0, dtype=F32), "clip_max")
            self.initializers += [lo, hi]
            self._clip_bounds = ["clip_min", "clip_max"]
        y = np.clip(self.calib[x], 0.0, 6.0)
        return self._add_node("Clip", [x] + self._clip_bounds, out, y)

    def max_pool(self, x, out, k, stride, pad=0, ceil_mode=0):
        y = npops.max_pool(self.calib[x], k, stride, pad, ceil_mode)
        return self._add_node("MaxPool", [x], out, y, ceil_mode=ceil_mode, kernel_shape=[k, k],
                              pads=[pad] * 4, strides=[stride, stride])

    def average_pool(self, x, out, k, stride):
        y = npops.average_pool(self.calib[x], k, stride)
        return self._add_node("AveragePool", [x], out, y, kernel_shape=[k, k], pads=[0] * 4,
                              strides=[stride, stride])

    def global_average_pool(self, x, out):
        y = self.calib[x].mean(axis=(2, 3), keepdims=True, dtype=F32)
        return self._add_node("GlobalAveragePool", [x], out, y)

    def lrn(self, x, out, size=5, alpha=1e-4, beta=0.75, bias=1.0):
        y = npops.lrn(self.calib[x], size, alpha, beta, bias)
        return self._add_node("LRN", [x], out, y, alpha=alpha, beta=beta, bias=bias, size=size)

    def concat(self, xs, out):
        y = np.concatenate([self.calib[x] for x in xs], axis=1)
        return self._add_node("Concat", xs, out, y, axis=1)

    def add(self, a, b, out):
        return self._add_node("Add", [a, b], out, self.calib[a] + self.calib[b])

    def dropout(self, x, out):
        """Inference-mode Dropout (identity); ratio left at its default like exporters do."""
        return self._add_node("Dropout", [x], out, self.calib[x])

    def flatten(self, x, out):
        xin = self.calib[x]
        return self._add_node("Flatten", [x], out, xin.reshape(xin.shape[0], -1), axis=1)

    def gemm(self, x, out, nout, target_std=1.0, weight_names=None):
        """Fully connected layer as torch exports it: Gemm(x, W[nout, nin], b, transB=1)."""
        xin = self.calib[x]
        w = self._he_normal((nout, xin.shape[1]), xin.shape[1])
        w, y = self._rescale(w, xin @ w.T, target_std)
        b = self._small(nout) * F32(target_std)
        wname, bname = weight_names or (out + "_w", out + "_b")
        inputs = [x, self._add_init(wname, w), self._add_init(bname, b)]
        return self._add_node("Gemm", inputs, out, y + b, alpha=1.0, beta=1.0, transB=1)

    def softmax(self, x, out):
        return self._add_node("Softmax", [x], out, npops.softmax(self.calib[x]), axis=1)

    # ---- result ---------------------------------------------------------------------------
    def model(self, output):
        """The finished model: input 'data' [N,3,224,224] -> `output` [N, classes]."""
        classes = self.calib[output].shape[1]
        graph = helper.make_graph(
            self.nodes, self.graph_name,
            [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", *INPUT_SHAPE])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", classes])],
            initializer=self.initializers)
        model = helper.make_model(graph, producer_name="inferd-tools-gen_models",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        model.doc_string = (f"{self.graph_name}: standard architecture with RANDOM weights "
                            "(no accuracy meaning); calibrated for unit-scale inputs.")
        return model
