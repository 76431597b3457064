"""A fake camera stream for Chromium: a still picture (a QR code) written as a YUV4MPEG2 video.

Chromium plays it with `--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE`.
Pillow converts to YCbCr; the chroma planes are halved for 4:2:0; the frames are raw bytes.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image


def write_y4m(path: Path, picture_png: bytes, size: tuple[int, int] = (640, 480), frames: int = 10,
              qr_side: int = 400) -> Path:
    """Write `frames` identical frames of the picture centred on white, as YUV4MPEG2 C420, 10 fps."""
    width, height = size
    picture = Image.open(BytesIO(picture_png)).convert("RGB")
    picture = picture.resize((qr_side, qr_side * picture.height // picture.width), Image.NEAREST)
    canvas = Image.new("RGB", size, "white")
    canvas.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half, Image.BILINEAR).tobytes() + cr.resize(half, Image.BILINEAR).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420\n".encode())
        for _ in range(frames):
            out.write(frame)
    return path
