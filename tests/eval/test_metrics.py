#!/usr/bin/env python3
"""Checks the evaluation's scoring rules on hand-made labels and pixels, so a wrong metric
cannot pass unnoticed. Standard library only, no media needed, runs in well under a second:
    python3 -m unittest tests/eval/test_metrics.py
"""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_set  # noqa: E402
import evaluate  # noqa: E402
import formats  # noqa: E402

LABELS = {
    "duration": 12.0, "portrait": False,
    "stretches": [{"start": 0.0, "end": 2.0, "kind": "title"},
                  {"start": 6.0, "end": 6.0, "kind": "cut"},
                  {"start": 9.0, "end": 10.0, "kind": "black"}],
    "scenes": [{"start": 2.0, "end": 6.0, "id": "astronaut", "faces": True},
               {"start": 6.0, "end": 9.0, "id": "coffee", "faces": False},
               {"start": 10.0, "end": 12.0, "id": "coffee", "faces": False}],
}


def picks(*times):
    return [{"time": t} for t in times]


class BadPicks(unittest.TestCase):
    def test_inside_and_margin(self):
        self.assertEqual(evaluate.bad_stretch(LABELS, 1.0)["kind"], "title")
        self.assertEqual(evaluate.bad_stretch(LABELS, 2.05)["kind"], "title")  # within 0.1 s
        self.assertIsNone(evaluate.bad_stretch(LABELS, 2.2))
        self.assertEqual(evaluate.bad_stretch(LABELS, 5.95)["kind"], "cut")
        self.assertEqual(evaluate.bad_stretch(LABELS, 6.08)["kind"], "cut")
        self.assertIsNone(evaluate.bad_stretch(LABELS, 6.2))
        self.assertEqual(evaluate.bad_stretch(LABELS, 13.0)["kind"], "outside")

    def test_score_counts(self):
        s = evaluate.score(LABELS, picks(3.0, 9.5, 7.0), None)
        self.assertEqual((s["picks"], s["bad"], s["bad_kinds"]), (3, 1, ["black"]))
        self.assertAlmostEqual(s["coverage"], 1.0)  # 2 distinct of min(3, 2) scenes
        self.assertTrue(s["first_face"])


class Coverage(unittest.TestCase):
    def test_same_scene_twice_counts_once(self):
        s = evaluate.score(LABELS, picks(7.0, 11.0, 8.0), None)
        self.assertAlmostEqual(s["coverage"], 0.5)
        self.assertFalse(s["first_face"])

    def test_bad_picks_cover_nothing(self):
        s = evaluate.score(LABELS, picks(1.0, 9.5), None)
        self.assertEqual(s["coverage"], 0.0)
        self.assertFalse(s["first_face"])


def image(w, h, band_edge, fraction=0.06):
    """RGB24 grey image with a red band along one edge."""
    px = bytearray([128] * (w * h * 3))
    band = max(1, int(round((h if band_edge in ("top", "bottom") else w) * fraction)))
    for r in range(h):
        for c in range(w):
            on = {"top": r < band, "bottom": r >= h - band, "left": c < band, "right": c >= w - band}[band_edge]
            if on:
                px[3 * (r * w + c):3 * (r * w + c) + 3] = b"\xff\x10\x10"
    return bytes(px)


class Upright(unittest.TestCase):
    def test_band_at_top_is_upright(self):
        self.assertTrue(build_set.red_top(image(90, 160, "top"), 90, 0.06))

    def test_turned_or_flipped_is_not(self):
        for edge in ("bottom", "left", "right"):
            self.assertFalse(build_set.red_top(image(90, 160, edge), 90, 0.06), edge)


class Labels(unittest.TestCase):
    def test_spec_labels_are_consistent(self):
        for video in build_set.SPEC:
            size = (360, 640) if "stored" in video else (640, 360)
            lab = build_set.labels_for(video, size)
            spans = sorted([(s["start"], s["end"]) for s in lab["scenes"]]
                           + [(b["start"], b["end"]) for b in lab["stretches"] if b["kind"] != "cut"])
            # scenes and bad stretches tile the video without gaps or overlaps
            self.assertAlmostEqual(spans[0][0], 0.0, msg=video["name"])
            for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
                self.assertAlmostEqual(a1, b0, places=3, msg=video["name"])
            self.assertAlmostEqual(spans[-1][1], lab["duration"], places=3, msg=video["name"])
            self.assertGreaterEqual(len({s["id"] for s in lab["scenes"]}), 3, video["name"])

    def test_every_bad_kind_is_planted(self):
        kinds = set()
        for video in build_set.SPEC:
            size = (360, 640) if "stored" in video else (640, 360)
            kinds |= {b["kind"] for b in build_set.labels_for(video, size)["stretches"]}
        self.assertEqual(kinds, set(build_set.BAD_KINDS))


# ---- formats section (tests/eval/formats.py): each check must catch a wrong picture ----

def rgb(w, h, f):
    """RGB24 image with pixel (x, y) = f(x, y) -> (r, g, b)."""
    return bytes(max(0, min(255, int(round(v)))) for y in range(h) for x in range(w) for v in f(x, y))


def texture(x, y, shift=0.0):
    """A smooth, colourful pattern; `shift` pans it right by that many pixels."""
    import math
    u = x - shift
    return (128 + 90 * math.sin(u / 5.0) * math.cos(y / 7.0),
            128 + 70 * math.sin(u / 9.0 + y / 11.0),
            128 + 80 * math.cos(u / 6.0 - y / 13.0))


def gray(img):
    return bytes(int(round(v)) for v in formats.luma(img))


def woven(w, h, shift):
    """One interlaced frame: even rows from the picture at 0, odd rows from it panned by
    `shift` pixels (the next field), as a decoder shows it without deinterlacing."""
    return rgb(w, h, lambda x, y: texture(x, y, 0 if y % 2 == 0 else shift))


class Colour(unittest.TestCase):
    def test_hasler_susstrunk_by_hand(self):
        # rg = ±255 (σ 255, μ 0); yb = 127.5 (σ 0, μ 127.5): 255 + 0.3 · 127.5
        self.assertAlmostEqual(formats.colourfulness(bytes([255, 0, 0, 0, 255, 0])), 293.25)
        self.assertEqual(formats.colourfulness(bytes([90, 90, 90] * 10)), 0.0)

    def test_washed_out_fails_and_small_change_passes(self):
        img = rgb(40, 30, texture)
        # an untone-mapped HDR frame: colours pulled halfway to grey (BT.2020 read as BT.709)
        washed = rgb(40, 30, lambda x, y: [0.5 * v + 0.5 * 128 for v in texture(x, y)])
        slightly = rgb(40, 30, lambda x, y: [0.9 * v + 0.1 * 128 for v in texture(x, y)])
        c = formats.colourfulness(img)
        self.assertFalse(formats.within(formats.colourfulness(washed), c, formats.TOL_COLOUR))
        self.assertTrue(formats.within(formats.colourfulness(slightly), c, formats.TOL_COLOUR))

    def test_brightness(self):
        img = rgb(20, 10, texture)
        dark = rgb(20, 10, lambda x, y: [0.6 * v for v in texture(x, y)])
        self.assertAlmostEqual(formats.brightness(bytes([255, 255, 255] * 4)), 255.0)
        self.assertFalse(formats.within(formats.brightness(dark), formats.brightness(img), formats.TOL_BRIGHT))
        self.assertTrue(formats.within(formats.brightness(img), formats.brightness(img), formats.TOL_BRIGHT))


class Comb(unittest.TestCase):
    W, H = 96, 64

    def test_woven_frame_fails_against_deinterlaced(self):
        progressive = gray(rgb(self.W, self.H, texture))
        combed = gray(woven(self.W, self.H, 6))
        ref = formats.comb_ratio(progressive, self.W)
        self.assertLess(ref, 0.6)
        self.assertGreater(formats.comb_ratio(combed, self.W), 1.0)
        self.assertFalse(formats.comb_ok(formats.comb_ratio(combed, self.W), ref))

    def test_progressive_and_line_doubled_pass(self):
        progressive = gray(rgb(self.W, self.H, texture))
        ref = formats.comb_ratio(progressive, self.W)
        self.assertTrue(formats.comb_ok(formats.comb_ratio(progressive, self.W), ref))
        # one field, the other's rows interpolated (a simple deinterlace): no zig-zag
        def field(x, y):
            if y % 2 == 0:
                return texture(x, y)
            return [(a + b) / 2 for a, b in zip(texture(x, y - 1), texture(x, y + 1))]
        self.assertTrue(formats.comb_ok(formats.comb_ratio(gray(rgb(self.W, self.H, field)), self.W), ref))

    def test_contrast_does_not_matter(self):
        # half the contrast (like an untone-mapped HDR frame) reads about the same
        progressive = gray(rgb(self.W, self.H, texture))
        flat = bytes(64 + v // 2 for v in progressive)
        self.assertAlmostEqual(formats.comb_ratio(flat, self.W), formats.comb_ratio(progressive, self.W),
                               delta=formats.TOL_COMB)
        combed_flat = bytes(64 + v // 2 for v in gray(woven(self.W, self.H, 6)))
        self.assertFalse(formats.comb_ok(formats.comb_ratio(combed_flat, self.W),
                                         formats.comb_ratio(progressive, self.W)))
        self.assertLess(formats.comb_ratio(bytes([100] * self.W * self.H), self.W), 0.01)


class TimeMatch(unittest.TestCase):
    def frames(self):
        # a pan: frame i is the texture moved i pixels (1 frame = 1 px, step 8 = "0.5 s")
        return [formats.luma(rgb(48, 27, lambda x, y, i=i: texture(x, y, i))) for i in range(40)]

    def test_right_time_passes(self):
        fr = self.frames()
        self.assertTrue(formats.match_time(fr[20], fr, 20, 8)["ok"])

    def test_time_with_an_offset_fails(self):
        fr = self.frames()
        self.assertFalse(formats.match_time(fr[28], fr, 20, 8)["ok"])  # the picture is 0.5 s later
        self.assertFalse(formats.match_time(fr[10], fr, 20, 8)["ok"])
        self.assertFalse(formats.match_time(fr[20], fr, 20 + 250, 8)["ok"])  # reported 10 s off
        self.assertEqual(formats.match_time(fr[20], fr, -3, 8)["why"], "outside the video")

    def test_unrelated_picture_fails(self):
        fr = self.frames()
        noise = [float((i * 7919) % 251) for i in range(len(fr[0]))]
        self.assertFalse(formats.match_time(noise, fr, 20, 8)["ok"])


class Distinct(unittest.TestCase):
    def test_three_distinct(self):
        a, b, c = (formats.luma(rgb(32, 18, lambda x, y, s=s: texture(x, y, s))) for s in (0, 20, 40))
        good = [{"time": 1.0, "luma": a}, {"time": 4.0, "luma": b}, {"time": 7.0, "luma": c}]
        self.assertTrue(formats.check_distinct(good)["ok"])

    def test_repeats_and_too_few_fail(self):
        a, b = (formats.luma(rgb(32, 18, lambda x, y, s=s: texture(x, y, s))) for s in (0, 20))
        same_time = [{"time": 1.0, "luma": a}, {"time": 1.2, "luma": b}, {"time": 7.0, "luma": a}]
        self.assertFalse(formats.check_distinct(same_time)["ok"])
        same_picture = [{"time": 1.0, "luma": a}, {"time": 4.0, "luma": b}, {"time": 7.0, "luma": list(a)}]
        self.assertFalse(formats.check_distinct(same_picture)["ok"])
        self.assertFalse(formats.check_distinct(same_picture[:2])["ok"])


class Aspect(unittest.TestCase):
    def test_squeezed_dv_fails(self):
        self.assertTrue(formats.within(1024 / 576, 16 / 9, formats.TOL_ASPECT))
        self.assertFalse(formats.within(720 / 576, 16 / 9, formats.TOL_ASPECT))  # SAR ignored
        self.assertFalse(formats.within(640 / 360, 9 / 16, formats.TOL_ASPECT))  # rotation ignored


class Failures(unittest.TestCase):
    def test_failures_lists_failed_checks(self):
        ok = {c: {"ok": True} for c in formats.CHECKS}
        bad = dict(ok, comb={"ok": False})
        r = {"checks": [ok, bad, ok], "distinct": {"ok": True}}
        self.assertEqual(formats.failures(r), ["combing"])
        self.assertEqual(len(formats.failures({"error": "exit 1"})), len(formats.CHECK_NAMES))

    def test_files_have_truth(self):
        names = [f["name"] for f in formats.FILES]
        self.assertEqual(len(names), len(set(names)))
        for f in formats.FILES:
            self.assertIn(f.get("crop", "full"), formats.CROPS, f["name"])
            self.assertIn(f.get("interlaced"), (None, "tff", "bff"), f["name"])
            self.assertGreater(f["aspect"], 0, f["name"])


if __name__ == "__main__":
    unittest.main()
