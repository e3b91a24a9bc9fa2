#!/usr/bin/python3
"""Prints the Pillow outputs embedded in pillow_match_test.cc (run with Debian's
python3-pil, Pillow 9.4: /usr/bin/python3 tests/image/pillow_cases.py).

Geometry, as preprocess.h's plan_resize_crop: the shorter side becomes `resize`, the
longer round(resize * long / short) with halves up, the crop offset is floor(diff / 2);
resize 0 stretches straight to the crop size. Pixels are Image.resize(BILINEAR), then
crop, as 8-bit RGB.
"""
import os
import sys

from PIL import Image

ASSETS = os.environ.get(
    "INFERD_ASSETS",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/assets"))

# (width, height, seed, resize, crop width, crop height, what it exercises)
CASES = [
    (37, 23, 1, 16, 8, 8, "downscale 1.44, odd crop offset"),
    (9, 7, 2, 20, 8, 8, "upscale 2.86"),
    (301, 200, 3, 24, 10, 8, "downscale 8.3: 19 taps per output"),
    (64, 48, 4, 30, 16, 12, "downscale 1.6 to 40x30"),
    (150, 110, 5, 109, 8, 8, "downscale by 1.009: scale just above 1"),
    (17, 101, 6, 33, 9, 7, "portrait, upscale 1.94"),
    (23, 41, 7, 23, 12, 12, "unchanged size: Pillow copies"),
    (12, 40, 8, 0, 12, 8, "stretch: only the vertical pass (Pillow skips the other)"),
    (5, 9, 9, 0, 11, 4, "stretch: upscale x, downscale y"),
    (40, 6, 10, 0, 8, 6, "stretch: only the horizontal pass"),
]

# Photos as the product preprocesses them (224 crop of the shorter side resized to 256):
# (asset, whether decode_and_preprocess would DCT-scale it, so that the test decodes it
# at full size with decode_image + preprocess instead).
ASSET_CASES = [
    ("seed_gre/1.jpg", False),
    ("darknet/eagle.jpg", False),
    ("caffe/cat_gray.jpg", False),
    ("opencv/squirrel_cls.jpg", False),
    ("winml/cat.jpg", False),
    ("winml/kitten_224.png", False),
    ("misc/pytorch_hub_dog.jpg", True),
]


def lcg_image(w, h, seed):
    s, data = seed, bytearray()
    for _ in range(w * h * 3):
        s = (s * 1103515245 + 12345) % (1 << 31)
        data.append((s >> 16) & 255)
    return Image.frombytes("RGB", (w, h), bytes(data))


def resize_crop(im, resize, cw, ch):
    w, h = im.size
    if resize == 0:
        return im.resize((cw, ch), Image.BILINEAR)
    short, long = min(w, h), max(w, h)
    new_long = (2 * resize * long + short) // (2 * short)
    rw, rh = (resize, new_long) if w <= h else (new_long, resize)
    x, y = (rw - cw) // 2, (rh - ch) // 2
    return im.resize((rw, rh), Image.BILINEAR).crop((x, y, x + cw, y + ch))


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    print("const PillowCase kPillowCases[] = {")
    for w, h, seed, resize, cw, ch, note in CASES:
        out = resize_crop(lcg_image(w, h, seed), resize, cw, ch).tobytes().hex()
        print(f"    // {note}")
        print(f"    {{{w}, {h}, {seed}, {resize}, {cw}, {ch},")
        lines = [out[i:i + 80] for i in range(0, len(out), 80)]
        print("\n".join(f'     "{line}"' for line in lines) + "},")
    print("};")
    print("const PillowAsset kPillowAssets[] = {")
    for rel, dct_scaled in ASSET_CASES:
        im = Image.open(os.path.join(ASSETS, "images", rel))
        out = resize_crop(im.convert("RGB"), 256, 224, 224).tobytes()
        flag = "true" if dct_scaled else "false"
        print(f'    {{"{rel}", {flag}, 0x{fnv1a64(out):016x}ULL}},  '
              f'// {im.size[0]}x{im.size[1]} {im.mode}')
    print("};")


if __name__ == "__main__":
    sys.exit(main())
