#!/usr/bin/env python3
"""Golden Grad-CAM and Grad-CAM++ heat maps, computed with PyTorch.

Run:  /usr/bin/python3 test/golden/gradcam_golden.py
Writes test/fixtures/golden/gradcam.json.

The fixed model (receptive's layout, NHWC, kernels HWIO, Dense [in, out]):
  Input [9, 9, 3] -> Conv2D 'conv_a' (4 filters, 3x3, 'same', ReLU)
                  -> Conv2D 'conv_b' (6 filters, 3x3, 'valid', ReLU)   -> [7, 7, 6]
                  -> GlobalAveragePooling2D -> Dense 'head' (5, softmax)
Seeded weights and inputs, float32-representable, written exactly. PyTorch runs in float64.

The definition (what rc.vision.gradCam computes), per image, with A = conv_b's output and
G = d logit[class] / d A (the score before the softmax):
  gradcam:   w_c = mean over pixels of G_c
  gradcam++: w_c = sum over pixels of relu(G) * a, a = G^2 / (2 G^2 + sum_pixels(A_c) G^3 + 1e-7),
             a = 0 where G = 0 (pytorch-grad-cam's GradCAMPlusPlus)
  cam = relu(sum_c w_c A_c), divided by its maximum (0 stays 0): `layer` [n, 7, 7];
  then bilinear upsampling to 9x9 with align_corners=False: `input` [n, 9, 9].
The class is given per image (`classIndex`) in one case and the predicted one in the other.
"""

import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "golden", "gradcam.json"))


def f32(t):
    return t.float().double()


def main():
    g = torch.Generator().manual_seed(21)
    n, H, W, C = 2, 9, 9, 3
    wa = f32(torch.randn(3, 3, 3, 4, generator=g) * 0.5)  # HWIO
    ba = f32(torch.randn(4, generator=g) * 0.1)
    wb = f32(torch.randn(3, 3, 4, 6, generator=g) * 0.4)
    bb = f32(torch.randn(6, generator=g) * 0.1)
    wd = f32(torch.randn(6, 5, generator=g) * 0.8)  # [in, out]
    bd = f32(torch.randn(5, generator=g) * 0.1)
    x = f32(torch.rand(n, H, W, C, generator=g))  # NHWC

    def forward(xn):
        h = xn.permute(0, 3, 1, 2)
        h = F.relu(F.conv2d(h, wa.permute(3, 2, 0, 1), ba, padding=1))
        a = F.relu(F.conv2d(h, wb.permute(3, 2, 0, 1), bb)).detach().requires_grad_()
        logits = a.mean(dim=(2, 3)) @ wd + bd
        return a, logits

    cases = []
    for class_index in ([1, 3], None):
        for method in ("gradcam", "gradcam++"):
            a, logits = forward(x)
            cls = class_index if class_index is not None else logits.argmax(1).tolist()
            score = logits[torch.arange(n), torch.tensor(cls)].sum()
            score.backward()
            A = a.detach()  # [n, c, h, w]
            G = a.grad
            if method == "gradcam":
                w = G.mean(dim=(2, 3))
            else:
                g2 = G**2
                g3 = g2 * G
                sa = A.sum(dim=(2, 3))
                aij = g2 / (2 * g2 + sa[:, :, None, None] * g3 + 1e-7)
                aij = torch.where(G != 0, aij, torch.zeros_like(aij))
                w = (F.relu(G) * aij).sum(dim=(2, 3))
            cam = F.relu((w[:, :, None, None] * A).sum(1))
            mx = cam.amax(dim=(1, 2), keepdim=True)
            cam = torch.where(mx > 0, cam / torch.where(mx > 0, mx, torch.ones_like(mx)), cam)
            up = F.interpolate(cam[:, None], size=(H, W), mode="bilinear", align_corners=False)[:, 0]
            assert float(cam.max()) == 1.0 or float(cam.max()) == 0.0
            assert cam.abs().sum() > 0, "a case whose map is all zero checks nothing"
            cases.append(
                {
                    "method": method,
                    "classIndex": class_index,
                    "expectedClassIndex": cls,
                    "layer": [round(v, 10) for v in cam.flatten().tolist()],
                    "input": [round(v, 10) for v in up.flatten().tolist()],
                }
            )

    data = {
        "about": "Grad-CAM golden values from test/golden/gradcam_golden.py (PyTorch, float64).",
        "inputShape": [n, H, W, C],
        "x": x.flatten().tolist(),
        "weights": {
            "conv_a": [wa.flatten().tolist(), ba.tolist()],
            "conv_b": [wb.flatten().tolist(), bb.tolist()],
            "head": [wd.flatten().tolist(), bd.tolist()],
        },
        "layerShape": [n, 7, 7],
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
