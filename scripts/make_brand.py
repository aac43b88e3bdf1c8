"""Draw the integration's neutral brand images (our own drawing, no third-party logos).

Run: .venv/bin/python scripts/make_brand.py  -> custom_components/ksem_zaptec/brand/*.png
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).parent.parent / "custom_components" / "ksem_zaptec" / "brand"


def icon(size: int, *, dark: bool) -> Image.Image:
    """A meter dial with a lightning bolt: energy measured and delivered."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size / 256
    bg = (32, 150, 120, 255) if not dark else (60, 190, 150, 255)
    fg = (255, 255, 255, 255) if not dark else (20, 24, 28, 255)
    d.rounded_rectangle((8 * s, 8 * s, 248 * s, 248 * s), radius=48 * s, fill=bg)
    # dial arc
    d.arc((40 * s, 40 * s, 216 * s, 216 * s), start=150, end=390, fill=fg, width=int(14 * s))
    # bolt
    bolt = [(138, 52), (84, 140), (124, 140), (110, 206), (172, 110), (130, 110), (150, 52)]
    d.polygon([(x * s, y * s) for x, y in bolt], fill=fg)
    return img


def logo(height: int, *, dark: bool) -> Image.Image:
    """Icon plus empty space: HA shows logos up to 2:1; we keep it to the icon shape."""
    return icon(height, dark=dark)


def main() -> None:
    """Write icon, logo and their @2x and dark variants."""
    OUT.mkdir(parents=True, exist_ok=True)
    for dark in (False, True):
        prefix = "dark_" if dark else ""
        icon(256, dark=dark).save(OUT / f"{prefix}icon.png", optimize=True)
        icon(512, dark=dark).save(OUT / f"{prefix}icon@2x.png", optimize=True)
        logo(256, dark=dark).save(OUT / f"{prefix}logo.png", optimize=True)
        logo(512, dark=dark).save(OUT / f"{prefix}logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
