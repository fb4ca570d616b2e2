"""Unit tests of the mutation corpus's own logic (no keepsake binary needed):
python3 -m unittest tests/corpus/test_corpus.py"""

import random
import struct
import sys
import tempfile
import unittest
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402


def png(width: int, height: int) -> bytes:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + bytes(64)


class Mutations(unittest.TestCase):
    def test_same_seed_same_corpus(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp, "a.png")
            src.write_bytes(png(10, 10) + bytes(range(256)) * 40)
            first = corpus.make_corpus([src], 20, 7, Path(tmp, "one"))
            second = corpus.make_corpus([src], 20, 7, Path(tmp, "two"))
            self.assertEqual(first, second)
            for f in first:
                self.assertEqual(Path(tmp, "one", f["name"]).read_bytes(), Path(tmp, "two", f["name"]).read_bytes())
            self.assertEqual({f["kind"] for f in first}, set(corpus.KINDS))

    def test_png_huge_keeps_a_valid_crc(self):
        data = bytearray(png(10, 10))
        self.assertIsNotNone(corpus.png_huge(data, random.Random(1)))
        w, h = struct.unpack(">II", data[16:24])
        self.assertGreater(w * h, 10**9)
        self.assertEqual(struct.unpack(">I", data[29:33])[0], zlib.crc32(bytes(data[12:29])))

    def test_bmff_huge_declares_a_huge_size(self):
        moov = struct.pack(">I", 28) + b"moov" + struct.pack(">I", 20) + b"stsz" + bytes(12)
        data = bytearray(struct.pack(">I", 16) + b"ftypisom" + bytes(4) + moov)
        before = bytes(data)
        self.assertIsNotNone(corpus.bmff_huge(data, random.Random(3)))
        self.assertEqual(len(data), len(before))
        self.assertNotEqual(bytes(data), before)
        self.assertEqual(data[:16], before[:16], "ftyp is left alone")

    def test_wrong_extension(self):
        data, ext, _ = corpus.mutate("wrong-ext", Path("x.jpg"), b"\xff\xd8", random.Random(0))
        self.assertEqual((data, ext), (b"\xff\xd8", ".mp4"))


class Verdicts(unittest.TestCase):
    def verdict(self, kind, state, error=None, thumbnail=None):
        files = [{"name": "0001_a_png_truncate.png"}]
        ls = [{"path": "/album/0001_a_png_truncate.png", "kind": kind, "state": state, "error": error}]
        thumbs = [{"path": "/album/0001_a_png_truncate.png", "thumbnail": thumbnail}]
        problems = []
        corpus.classify(files, ls, thumbs, Path("/album"), problems)
        return files[0]["outcome"], problems

    def test_outcomes(self):
        self.assertEqual(self.verdict("photo", "pending", thumbnail="/t.jpg"), ("ready", []))
        self.assertEqual(self.verdict("photo", "failed", "damaged"), ("failed", []))
        self.assertEqual(self.verdict("photo", "pending")[0], "lost")
        self.assertEqual(self.verdict("video", "pending")[0], "lost")
        self.assertEqual(self.verdict("video", "failed", "worker crashed (SIGSEGV)")[0], "crashed")
        self.assertEqual(self.verdict("video", "failed", "worker hung: no answer within 30 s")[0], "hung")
        outcome, problems = self.verdict("video", "failed", "two\nlines")
        self.assertEqual((outcome, len(problems)), ("failed", 1))
        self.assertEqual(len(self.verdict("video", "failed", " ")[1]), 1)

    def test_not_indexed(self):
        problems = []
        files = [{"name": "0001_a_ts_flip-header.ts"}, {"name": "0002_a_png_zero-byte.png"}]
        corpus.classify(files, [], [], Path("/album"), problems)
        self.assertEqual([f["outcome"] for f in files], ["skipped", "lost"])
        self.assertEqual(len(problems), 1)

    def test_commands(self):
        rec = {"args": ["analyze"], "rc": -11, "timed_out": False, "timeout": 9, "stderr": ""}
        problems = []
        corpus.check_command(rec, problems)
        self.assertIn("SIGSEGV", problems[0])
        problems = []
        corpus.check_command(dict(rec, rc=101, stderr="thread 'main' panicked at x.rs"), problems)
        self.assertEqual(len(problems), 2)
        problems = []
        corpus.check_command(dict(rec, rc=1), problems)
        self.assertEqual(problems, [])


if __name__ == "__main__":
    unittest.main()
