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


if __name__ == "__main__":
    unittest.main()
