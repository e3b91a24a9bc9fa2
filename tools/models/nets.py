"""The architectures, at their real sizes, built with NetBuilder (random weights).

Node and weight names follow the source each layout comes from (torchvision module paths for
ResNet-50 and MobileNetV2, BVLC Caffe layer names for GoogLeNet, AlexNet and CaffeNet) so that a graph
dump can be read side by side with the reference definition.
"""
from builder import NetBuilder

CLASSES = 1000
# Logit spread that softmax turns into probabilities between ~1e-5 and ~0.1 (see builder.py).
LOGIT_STD = 2.5
# Caffe nets see 0..255 pixels, so their early layers run at tens to hundreds; at that scale
# LRN changes values noticeably, while at unit scale it would be a near no-op (and untested).
LRN_INPUT_STD = 50.0


def _conv_bn(b, x, conv_name, bn_name, cout, k, stride=1, pad=0, group=1):
    y = b.conv(x, conv_name, cout, k, stride, pad, group, bias=False,
               weight_names=(conv_name + ".weight", None))
    return b.batch_norm(y, bn_name, bn_name)


def _classifier(b, x, fc_name, weight_names=None):
    logits = b.gemm(x, fc_name, CLASSES, target_std=LOGIT_STD, weight_names=weight_names)
    return b.softmax(logits, "prob")


# ---- ResNet-50 v1.5 (torchvision.models.resnet50) -------------------------------------------
def _bottleneck(b, x, p, width, stride):
    """1x1 reduce, 3x3 (carries the stride: v1.5), 1x1 expand x4; projection shortcut when
    the shape changes; Add then Relu."""
    cout = width * 4
    y = b.relu(_conv_bn(b, x, p + ".conv1", p + ".bn1", width, 1), p + ".relu1")
    y = b.relu(_conv_bn(b, y, p + ".conv2", p + ".bn2", width, 3, stride, 1), p + ".relu2")
    y = _conv_bn(b, y, p + ".conv3", p + ".bn3", cout, 1)
    shortcut = x
    if stride != 1 or b.channels(x) != cout:
        shortcut = _conv_bn(b, x, p + ".downsample.0", p + ".downsample.1", cout, 1, stride)
    return b.relu(b.add(y, shortcut, p + ".add"), p + ".relu3")


def resnet50(seed):
    b = NetBuilder("resnet50", seed)
    x = b.relu(_conv_bn(b, "data", "conv1", "bn1", 64, 7, 2, 3), "relu")
    x = b.max_pool(x, "maxpool", 3, 2, 1)
    for stage, (width, blocks, stride) in enumerate(
            [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=1):
        for i in range(blocks):
            x = _bottleneck(b, x, f"layer{stage}.{i}", width, stride if i == 0 else 1)
    x = b.flatten(b.global_average_pool(x, "avgpool"), "flatten")
    return b, _classifier(b, x, "fc", ("fc.weight", "fc.bias"))


# ---- MobileNetV2 1.0 (torchvision.models.mobilenet_v2) --------------------------------------
# (expansion t, output channels c, repeats n, first stride s), as in the paper's Table 2.
_MBV2_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                  (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def _conv_bn_relu6(b, x, p, cout, k, stride=1, group=1):
    return b.relu6(_conv_bn(b, x, p + ".conv", p + ".bn", cout, k, stride, k // 2, group),
                   p + ".relu6")


def _inverted_residual(b, x, p, expand, cout, stride):
    cin = b.channels(x)
    hidden = cin * expand
    y = x
    if expand != 1:
        y = _conv_bn_relu6(b, y, p + ".expand", hidden, 1)
    y = _conv_bn_relu6(b, y, p + ".dw", hidden, 3, stride, group=hidden)
    y = _conv_bn(b, y, p + ".project.conv", p + ".project.bn", cout, 1)  # linear bottleneck
    if stride == 1 and cin == cout:
        y = b.add(x, y, p + ".add")
    return y


def mobilenetv2(seed):
    b = NetBuilder("mobilenetv2", seed)
    x = _conv_bn_relu6(b, "data", "features.0", 32, 3, 2)
    index = 1
    for expand, cout, repeats, stride in _MBV2_SETTINGS:
        for i in range(repeats):
            x = _inverted_residual(b, x, f"features.{index}", expand, cout,
                                   stride if i == 0 else 1)
            index += 1
    x = _conv_bn_relu6(b, x, f"features.{index}", 1280, 1)
    x = b.flatten(b.global_average_pool(x, "avgpool"), "flatten")
    return b, _classifier(b, x, "classifier.1", ("classifier.1.weight", "classifier.1.bias"))


# ---- GoogLeNet / Inception v1 (BVLC bvlc_googlenet deploy.prototxt) -------------------------
# name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj)
_INCEPTIONS = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _conv_relu(b, x, name, relu_name, cout, k, stride=1, pad=0, group=1, target_std=1.0):
    y = b.conv(x, name, cout, k, stride, pad, group, target_std=target_std)
    return b.relu(y, relu_name)


def _inception(b, x, key):
    c1, c3r, c3, c5r, c5, proj = _INCEPTIONS[key]
    p = f"inception_{key}/"
    br1 = _conv_relu(b, x, p + "1x1", p + "relu_1x1", c1, 1)
    br3 = _conv_relu(b, x, p + "3x3_reduce", p + "relu_3x3_reduce", c3r, 1)
    br3 = _conv_relu(b, br3, p + "3x3", p + "relu_3x3", c3, 3, pad=1)
    br5 = _conv_relu(b, x, p + "5x5_reduce", p + "relu_5x5_reduce", c5r, 1)
    br5 = _conv_relu(b, br5, p + "5x5", p + "relu_5x5", c5, 5, pad=2)
    brp = b.max_pool(x, p + "pool", 3, 1, 1, ceil_mode=1)
    brp = _conv_relu(b, brp, p + "pool_proj", p + "relu_pool_proj", proj, 1)
    return b.concat([br1, br3, br5, brp], p + "output")


def googlenet(seed):
    b = NetBuilder("googlenet", seed)
    x = _conv_relu(b, "data", "conv1/7x7_s2", "conv1/relu_7x7", 64, 7, 2, 3,
                   target_std=LRN_INPUT_STD)
    x = b.lrn(b.max_pool(x, "pool1/3x3_s2", 3, 2, ceil_mode=1), "pool1/norm1")
    x = _conv_relu(b, x, "conv2/3x3_reduce", "conv2/relu_3x3_reduce", 64, 1)
    x = _conv_relu(b, x, "conv2/3x3", "conv2/relu_3x3", 192, 3, pad=1, target_std=LRN_INPUT_STD)
    x = b.max_pool(b.lrn(x, "conv2/norm2"), "pool2/3x3_s2", 3, 2, ceil_mode=1)
    for key in ("3a", "3b"):
        x = _inception(b, x, key)
    x = b.max_pool(x, "pool3/3x3_s2", 3, 2, ceil_mode=1)
    for key in ("4a", "4b", "4c", "4d", "4e"):
        x = _inception(b, x, key)
    x = b.max_pool(x, "pool4/3x3_s2", 3, 2, ceil_mode=1)
    for key in ("5a", "5b"):
        x = _inception(b, x, key)
    x = b.dropout(b.average_pool(x, "pool5/7x7_s1", 7, 1), "pool5/drop_7x7_s1")
    x = b.flatten(x, "pool5/flatten")
    return b, _classifier(b, x, "loss3/classifier")


# ---- AlexNet (BVLC bvlc_alexnet deploy.prototxt) --------------------------------------------
def alexnet(seed):
    b = NetBuilder("alexnet", seed)
    x = _conv_relu(b, "data", "conv1", "relu1", 96, 11, 4, target_std=LRN_INPUT_STD)
    x = b.max_pool(b.lrn(x, "norm1"), "pool1", 3, 2, ceil_mode=1)
    x = _conv_relu(b, x, "conv2", "relu2", 256, 5, pad=2, group=2, target_std=LRN_INPUT_STD)
    x = b.max_pool(b.lrn(x, "norm2"), "pool2", 3, 2, ceil_mode=1)
    x = _conv_relu(b, x, "conv3", "relu3", 384, 3, pad=1)
    x = _conv_relu(b, x, "conv4", "relu4", 384, 3, pad=1, group=2)
    x = _conv_relu(b, x, "conv5", "relu5", 256, 3, pad=1, group=2)
    x = b.flatten(b.max_pool(x, "pool5", 3, 2, ceil_mode=1), "pool5/flatten")  # 256*6*6 = 9216
    for fc in ("6", "7"):
        x = b.dropout(b.relu(b.gemm(x, "fc" + fc, 4096), "relu" + fc), "drop" + fc)
    return b, _classifier(b, x, "fc8")


# ---- CaffeNet (BVLC bvlc_reference_caffenet deploy.prototxt): AlexNet with pool before norm
def caffenet(seed):
    b = NetBuilder("caffenet", seed)
    x = _conv_relu(b, "data", "conv1", "relu1", 96, 11, 4, target_std=LRN_INPUT_STD)
    x = b.lrn(b.max_pool(x, "pool1", 3, 2, ceil_mode=1), "norm1")
    x = _conv_relu(b, x, "conv2", "relu2", 256, 5, pad=2, group=2, target_std=LRN_INPUT_STD)
    x = b.lrn(b.max_pool(x, "pool2", 3, 2, ceil_mode=1), "norm2")
    x = _conv_relu(b, x, "conv3", "relu3", 384, 3, pad=1)
    x = _conv_relu(b, x, "conv4", "relu4", 384, 3, pad=1, group=2)
    x = _conv_relu(b, x, "conv5", "relu5", 256, 3, pad=1, group=2)
    x = b.flatten(b.max_pool(x, "pool5", 3, 2, ceil_mode=1), "pool5/flatten")
    for fc in ("6", "7"):
        x = b.dropout(b.relu(b.gemm(x, "fc" + fc, 4096), "relu" + fc), "drop" + fc)
    return b, _classifier(b, x, "fc8")


ARCHITECTURES = {"resnet50": resnet50, "googlenet": googlenet, "alexnet": alexnet,
                 "mobilenetv2": mobilenetv2, "caffenet": caffenet}
