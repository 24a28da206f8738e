"""ROM peaks on bodies and looks that nothing was tuned on (issue #14, "widen the renders").

    PYOPENGL_PLATFORM=egl python benchmarks/rom_wide_looks.py [--cache DIR] [--only NAME ...]
        [--render-only] [--json OUT.json]

Six ROM protocol videos, one per body of ``synthetic/data/anny_bodies_wide.npz``
(``tools/export_anny_rig.py --set wide``: very old man and woman, heavy tall man, the
shortest neck anny gives on a heavy body, petite young woman, tall woman; no correction of
the library was fitted on any of them), 4 at full range and 2 at restricted range, seated,
over the laptop / webcam / tripod cameras, with looks the other sets do not have: glasses
(2), long hair over the ears (2), both (1), skin tones beyond ``SKIN_TONES`` (very light,
very dark) and the usual ones.

Protocol, peak drawing (seeded by the video's name), cameras, rendering and scoring are
``rom_full_range.py``'s (imported). Truth files are in its format plus ``body_set`` (the
body file) and ``looks``; ``truth["body"]["id"]`` is the index in the wide file. Note: the
truth's ``visible`` flags keep their 2 cm depth tolerance, so a tragus under the hair
shell (about 1 cm above the skin) still counts as visible.

Cached in ``--cache`` (default /tmp/posture-bench/rom_wide): only missing videos are
rendered (1-3 min each on 2 busy cores). ``ensure_wide_videos(cache)`` is the
``accuracy.ensure_rom_full_videos`` counterpart ([(variant, video)], rendered into
``cache / "rom_wide"``), for ``accuracy.rom_full_range(videos, table, splits)``; the
variants are split "heldout" (their bodies are in no fitted split).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import rom_full_range as rf  # noqa: E402

from synthetic.rig import WIDE_DATA_PATH, Body, load_bodies  # noqa: E402
from synthetic.scene import (  # noqa: E402
    HAIR_COLOURS,
    SKIN_TONE_VERY_DARK,
    SKIN_TONE_VERY_LIGHT,
    SKIN_TONES,
    Appearance,
    Lighting,
)

DEFAULT_CACHE = Path("/tmp/posture-bench/rom_wide")
SUBDIR = "rom_wide"


@dataclasses.dataclass(frozen=True)
class WideVariant(rf.Variant):
    """A ``rom_full_range.Variant`` on a wide-set body, with looks."""

    glasses: bool = False
    long_hair: bool = False
    skin_rgb: tuple[int, int, int] | None = None  # overrides ``skin`` (tones beyond SKIN_TONES)

    @property
    def appearance(self) -> Appearance:
        return dataclasses.replace(
            super().appearance,
            skin_rgb=self.skin_rgb or SKIN_TONES[self.skin],
            glasses=self.glasses,
            long_hair=self.long_hair,
        )

    @property
    def looks(self) -> dict:
        a = self.appearance
        return {"glasses": a.glasses, "long_hair": a.long_hair, "skin_rgb": list(a.skin_rgb),
                "hair_rgb": list(a.hair_rgb), "shirt_rgb": list(a.shirt_rgb),
                "long_sleeves": a.long_sleeves}  # fmt: skip

    def describe_looks(self) -> str:
        parts = [p for p, on in (("glasses", self.glasses), ("long hair", self.long_hair)) if on]
        tone = {SKIN_TONE_VERY_LIGHT: "very light", SKIN_TONE_VERY_DARK: "very dark"}.get(
            self.skin_rgb, f"tone {self.skin}"
        )
        return ", ".join([*parts, f"skin {tone}"])


W = WideVariant
# (name, body, split, range, camera, skin index, hair, shirt, background, key light deg, looks)
VARIANTS: tuple[WideVariant, ...] = (
    W("wide_full_laptop_very_old_man", "very_old_man", "heldout", "full",
      rf.laptop(0.60, 0.20, 2), 0, 4, 4, "room", -25, glasses=True,
      skin_rgb=SKIN_TONE_VERY_LIGHT),
    W("wide_full_webcam_very_old_woman", "very_old_woman", "heldout", "full",
      rf.webcam(0.70, 0.0, -2), 1, 4, 6, "gradient", 30, long_hair=True),
    W("wide_full_tripod_heavy_tall_man", "heavy_tall_man", "heldout", "full",
      rf.tripod(2.4, 1100, 1), 5, 0, 5, "room", -35, glasses=True,
      skin_rgb=SKIN_TONE_VERY_DARK),
    W("wide_full_webcam_tall_woman", "tall_woman", "heldout", "full",
      rf.webcam(0.75, 0.02, 2), 3, 2, 2, "stripes", 20, glasses=True, long_hair=True),
    W("wide_restricted_laptop_petite_woman", "petite_young_woman", "heldout", "restricted",
      rf.laptop(0.55, 0.18, -1), 4, 0, 1, "noise", -15, long_hair=True),
    W("wide_restricted_tripod_short_neck", "short_neck_heavy", "heldout", "restricted",
      rf.tripod(1.7, 800, -2), 2, 1, 7, "checker", 25),
)  # fmt: skip


def wide_body(name: str) -> Body:
    return load_bodies(WIDE_DATA_PATH).body(name)


def check_variants() -> None:
    wide = load_bodies(WIDE_DATA_PATH).names
    main = set(load_bodies().names)
    assert sorted(v.body for v in VARIANTS) == sorted(wide), "each wide body once"
    assert not main & set(wide), "wide bodies are not in anny_bodies.npz"
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    assert sum(v.range_kind == "full" for v in VARIANTS) == 4
    for v in VARIANTS:
        assert v.split == "heldout" and abs(v.camera.azimuth_deg) <= 5.0, v.name
        assert 0 <= v.hair < len(HAIR_COLOURS), v.name


def ensure_variant(out: Path, v: WideVariant) -> Path:
    extra = {"body_set": WIDE_DATA_PATH.name, "looks": v.looks}
    return rf.ensure_video(out, v.name, v.moves, wide_body(v.body), v.camera, v.appearance,
                           Lighting(key_azimuth_deg=v.key_light_deg), v.background,
                           extra=extra)  # fmt: skip


def ensure_wide_videos(cache: Path) -> list:
    """The six wide-set videos, rendered into ``cache / "rom_wide"`` unless cached:
    [(variant, video)], as ``accuracy.ensure_rom_full_videos``."""
    check_variants()
    return [(v, ensure_variant(cache / SUBDIR, v)) for v in VARIANTS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="the videos' folder")
    parser.add_argument("--only", nargs="*", default=None, help="variant names")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write per-video results")
    args = parser.parse_args(argv)
    check_variants()
    variants = list(VARIANTS)
    if args.only:
        unknown = set(args.only) - {v.name for v in VARIANTS}
        if unknown:
            parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
        variants = [v for v in variants if v.name in args.only]
    t0 = time.perf_counter()
    videos = [(v, ensure_variant(args.cache, v)) for v in variants]
    print(f"(render/cache check {time.perf_counter() - t0:.0f} s)")
    rf.print_variants(variants, args.cache)
    for v in variants:
        print(f"  {v.name:<41}{v.describe_looks()}")
    if args.render_only:
        return 0
    print("\nScoring with posture.pipeline.analyze:")
    t0 = time.perf_counter()
    results = rf.score(videos, replay=False)
    rf.print_tables(results, "analyze()")
    print(f"\nanalysis {time.perf_counter() - t0:.0f} s for {len(results)} videos")
    if args.json:
        args.json.write_text(json.dumps([
            {"name": r.variant.name, "range": r.variant.range_kind, "body": r.variant.body,
             "camera": r.variant.camera.describe(), "looks": r.variant.looks,
             "truth": r.truth, "rom": r.rom, "rom_at_least": list(r.at_least),
             "crash": r.crash, "seconds": round(r.seconds, 1)} for r in results
        ], indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
