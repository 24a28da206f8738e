"""One-off export of 3DDFA_V2's MobileNet (width 0.5, 120x120) head-pose network to ONNX.

Not run by tests, and torch is NOT a run-time dependency of ``posture``. Rerun it in a
throwaway venv (torch 2.13.0 is pinned: an unpinned ``pip install torch`` pulls a CUDA
build of several GB)::

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install torch==2.13.0 onnx
    /tmp/export-venv/bin/python tools/export_3ddfa_onnx.py \\
        --weights ../shared/models/3ddfa_v2_mb05_120x120.pth \\
        --mean-std ../shared/models/param_mean_std_62d_120x120.pkl

Source: github.com/cleardusk/3DDFA_V2 @ 1b6c67601abffc1e9f248b291708aef0e43b55ae (MIT),
``models/mobilenet_v1.py`` (network), ``utils/tddfa_util.py`` (``load_model``),
``TDDFA_ONNX.py`` (crop -> 120x120 -> ``(img - 127.5) / 128`` -> params * std + mean).
The network below is rewritten from that description.

Writes ``posture/landmarks/data/head_pose_3ddfa_mb05.onnx`` whose graph holds the whole
pre- and post-processing:

- input ``rgb``: float32 (N, 3, 120, 120), RGB, 0..255. 3DDFA_V2 feeds BGR (cv2.imread);
  the first convolution's input channels are permuted instead, which is exact (it has
  zero padding per channel and no bias), so callers pass RGB as the rest of the project.
  ``(x - 127.5) / 128`` is the first node of the graph.
- output ``params``: float32 (N, 62) de-normalised 3DMM parameters (``* std + mean``
  folded in): the first 12 are the 3x4 weak-perspective pose matrix [s R | t] (row major),
  then 40 shape and 10 expression coefficients.

It then checks the original network (BGR, normalised outside) in torch against the
exported file in onnxruntime, if installed, else against the ONNX reference evaluator,
on random images and prints the largest difference.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
OUT_DEFAULT = REPO / "posture" / "landmarks" / "data" / "head_pose_3ddfa_mb05.onnx"
SIZE = 120


class DepthWiseBlock(nn.Module):
    """3x3 depthwise conv + BN + ReLU, then 1x1 conv + BN + ReLU (names as upstream)."""

    def __init__(self, inplanes: float, planes: float, stride: int = 1) -> None:
        super().__init__()
        inplanes, planes = int(inplanes), int(planes)
        self.conv_dw = nn.Conv2d(
            inplanes, inplanes, 3, stride=stride, padding=1, groups=inplanes, bias=False
        )
        self.bn_dw = nn.BatchNorm2d(inplanes)
        self.conv_sep = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn_sep = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn_dw(self.conv_dw(x)))
        return self.relu(self.bn_sep(self.conv_sep(x)))


# (name, in, out, stride) in units of the width factor, as upstream's MobileNet.
BLOCKS = (
    ("dw2_1", 32, 64, 1), ("dw2_2", 64, 128, 2), ("dw3_1", 128, 128, 1),
    ("dw3_2", 128, 256, 2), ("dw4_1", 256, 256, 1), ("dw4_2", 256, 512, 2),
    ("dw5_1", 512, 512, 1), ("dw5_2", 512, 512, 1), ("dw5_3", 512, 512, 1),
    ("dw5_4", 512, 512, 1), ("dw5_5", 512, 512, 1), ("dw5_6", 512, 1024, 2),
    ("dw6", 1024, 1024, 1),
)  # fmt: skip


class MobileNet(nn.Module):
    """3DDFA_V2's MobileNetV1 (ReLU variant): normalised BGR crop -> 62 normalised params."""

    def __init__(self, widen_factor: float = 0.5, num_classes: int = 62) -> None:
        super().__init__()
        w = widen_factor
        self.conv1 = nn.Conv2d(3, int(32 * w), 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(int(32 * w))
        self.relu = nn.ReLU()
        for name, cin, cout, stride in BLOCKS:
            setattr(self, name, DepthWiseBlock(cin * w, cout * w, stride))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(int(1024 * w), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for name, *_ in BLOCKS:
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class HeadPoseGraph(nn.Module):
    """RGB 0..255 crop -> de-normalised params: what ships."""

    def __init__(self, net: MobileNet, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)))
        self.register_buffer("std", torch.from_numpy(std.astype(np.float32)))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.net((rgb - 127.5) / 128.0) * self.std + self.mean


def load_network(weights: Path) -> MobileNet:
    """Upstream's ``load_model``: drop the multi-GPU ``module.`` prefix, fc_param -> fc.

    The checkpoint also holds ``fc_lm`` (a landmark head used in training only): unused.
    """
    checkpoint = torch.load(weights, map_location="cpu", weights_only=False)["state_dict"]
    net = MobileNet(widen_factor=0.5, num_classes=62)
    state = net.state_dict()
    loaded = set()
    for key, value in checkpoint.items():
        k = key.replace("module.", "").replace("fc_param.", "fc.")
        if k in state:
            state[k] = value
            loaded.add(k)
    missing = set(state) - loaded
    if missing:
        raise SystemExit(f"weights lack {sorted(missing)}")
    net.load_state_dict(state)
    return net.eval()


def rgb_variant(net: MobileNet) -> MobileNet:
    """A copy of ``net`` that takes RGB: conv1's input channels reversed (exact)."""
    rgb_net = MobileNet(widen_factor=0.5, num_classes=62)
    rgb_net.load_state_dict(net.state_dict())
    with torch.no_grad():
        rgb_net.conv1.weight.copy_(net.conv1.weight.flip(1))
    return rgb_net.eval()


def check(net: MobileNet, mean: np.ndarray, std: np.ndarray, out: Path) -> float:
    """Largest |torch - ONNX| over random and smooth images (params in their own units)."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 255, (2, 3, SIZE, SIZE))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    smooth = np.stack([255 * xx, 255 * yy, 127 + 100 * np.sin(6 * xx * yy)])[None]
    rgb = np.concatenate([noise, smooth]).astype(np.float32)
    with torch.no_grad():  # the upstream recipe: BGR, normalised outside, then re-scaled
        bgr = torch.from_numpy(rgb[:, ::-1].copy())
        want = net((bgr - 127.5) / 128.0).numpy() * std + mean
    try:
        import onnxruntime

        sess = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        got = sess.run(None, {"rgb": rgb})[0]
        engine = "onnxruntime"
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        got = ReferenceEvaluator(str(out)).run(None, {"rgb": rgb})[0]
        engine = "onnx.reference"
    # Compare relative to each parameter's spread (the pose entries differ by 1e5 in scale).
    diff = float(np.max(np.abs(got - want) / std))
    print(f"torch vs {engine}: max |diff| / std = {diff:.2e}; pose row 0 {got[-1, :4]}")
    return diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, required=True, help="mb05_120x120.pth")
    ap.add_argument("--mean-std", type=Path, required=True, help="param_mean_std_62d_120x120.pkl")
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    args = ap.parse_args()

    with open(args.mean_std, "rb") as f:
        mean_std = pickle.load(f)
    mean = np.asarray(mean_std["mean"], np.float32)
    std = np.asarray(mean_std["std"], np.float32)
    net = load_network(args.weights)
    graph = HeadPoseGraph(rgb_variant(net), mean, std).eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        graph,
        (torch.zeros(1, 3, SIZE, SIZE),),
        str(args.out),
        input_names=["rgb"],
        output_names=["params"],
        dynamic_axes={"rgb": {0: "n"}, "params": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    if check(net, mean, std, args.out) > 1e-3:
        raise SystemExit("torch and ONNX disagree")


if __name__ == "__main__":
    main()
