//! Colour: what a decoded picture's numbers mean, and how to turn them into the SDR RGB a
//! person expects to see in a JPEG.
//!
//! Why this exists: phones record HDR video by default (HEVC Main10, BT.2020, HLG; some
//! PQ/HDR10 or Dolby Vision with an HLG or HDR10 base layer). Read as if it were SDR, an
//! HDR picture looks grey and washed out, and every score measured on it (colourfulness,
//! contrast, exposure) is wrong. So every picture the engine makes from an HDR frame (the
//! analysis frames, the picks, moments, previews, the contact sheet) is tone-mapped here:
//!
//! 1. swscale turns Y'CbCr into 16-bit R'G'B' with the stream's own matrix (BT.2020, BT.709
//!    or BT.601) and range;
//! 2. the transfer function is undone: PQ (SMPTE ST 2084) to absolute cd/m², HLG
//!    (ARIB STD-B67) to scene light, then the HLG OOTF for a 1000 cd/m² display (γ 1.2);
//! 3. the luminance is tone-mapped with the BT.2390 EETF (a Hermite roll-off in the PQ
//!    domain that leaves everything below its knee untouched) from the content's peak
//!    (MaxCLL or the mastering display's, else 1000 cd/m²) down to the reference white of
//!    BT.2408, 203 cd/m², which becomes SDR white; hue is kept by scaling R, G and B alike;
//! 4. BT.2020 primaries are converted to BT.709 in linear light, out-of-gamut values
//!    clipped;
//! 5. the result is encoded with the inverse of BT.1886 (gamma 2.4), as SDR video is.
//!
//! Every curve is a lookup table built once per converter, so a 4K pick costs a few tens
//! of milliseconds more than an SDR one. FFmpeg's `zscale`/`tonemap` filters would do the
//! same, but the engine does not link libavfilter (its ~50 dependencies load in every
//! worker; see the workspace `Cargo.toml`).
//!
//! SDR frames take the same path minus steps 2–5: the matrix is the stream's own (before
//! this, swscale's default BT.601 was applied to every video, shifting HD colours).

use ffmpeg::util::color;
use ffmpeg_next as ffmpeg;

/// SMPTE ST 2084 (PQ) constants.
const PQ_M1: f64 = 2610.0 / 16384.0;
const PQ_M2: f64 = 2523.0 / 4096.0 * 128.0;
const PQ_C1: f64 = 3424.0 / 4096.0;
const PQ_C2: f64 = 2413.0 / 4096.0 * 32.0;
const PQ_C3: f64 = 2392.0 / 4096.0 * 32.0;
/// ARIB STD-B67 (HLG) constants.
const HLG_A: f64 = 0.178_832_77;
const HLG_B: f64 = 0.284_668_92;
const HLG_C: f64 = 0.559_910_73;
/// BT.2408: HDR reference white (graphics white, diffuse white) in cd/m². It becomes SDR
/// white: a converted SDR programme's white lands here, so it comes back unchanged.
pub(crate) const REFERENCE_WHITE_NITS: f64 = 203.0;
/// Peak assumed when a PQ stream does not say (most HDR10 is graded for 1000 cd/m²), and
/// the nominal HLG display peak.
pub(crate) const DEFAULT_PEAK_NITS: f64 = 1000.0;
/// BT.2020 luminance weights (linear light).
const BT2020_LUMA: [f32; 3] = [0.2627, 0.6780, 0.0593];
/// Linear BT.2020 RGB → linear BT.709 RGB (ITU-R BT.2087).
const BT2020_TO_BT709: [[f32; 3]; 3] =
    [[1.6605, -0.5876, -0.0728], [-0.1246, 1.1329, -0.0083], [-0.0182, -0.1006, 1.1187]];

/// How a stream's pictures encode light.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transfer {
    /// Standard dynamic range (BT.709/BT.601/sRGB-like gamma): shown as decoded.
    Sdr,
    /// Hybrid log-gamma (ARIB STD-B67), what phones record.
    Hlg,
    /// Perceptual quantiser (SMPTE ST 2084), HDR10.
    Pq,
}

impl Transfer {
    pub fn from_ffmpeg(t: color::TransferCharacteristic) -> Option<Transfer> {
        use color::TransferCharacteristic as T;
        match t {
            T::ARIB_STD_B67 => Some(Transfer::Hlg),
            T::SMPTE2084 => Some(Transfer::Pq),
            T::Unspecified | T::Reserved0 | T::Reserved => None,
            _ => Some(Transfer::Sdr),
        }
    }

    pub fn is_hdr(self) -> bool {
        self != Transfer::Sdr
    }
}

/// The colour facts one conversion needs, resolved from the frame's tags, the stream's,
/// and conventions where both are silent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ColourSpec {
    pub transfer: Transfer,
    /// BT.2020 primaries: converted to BT.709 after tone mapping.
    pub wide_gamut: bool,
    /// swscale colour-space id (`SWS_CS_*`, which are `AVColorSpace` values).
    pub matrix: i32,
    /// Full-range (0–255) Y'CbCr rather than video range (16–235).
    pub full_range: bool,
    /// Brightest light the content holds, cd/m² (HDR only).
    pub peak_nits: f32,
}

/// swscale's matrix ids (`SWS_CS_*` in libswscale/swscale.h; equal to `AVColorSpace`).
pub(crate) const SWS_CS_ITU709: i32 = 1;
pub(crate) const SWS_CS_FCC: i32 = 4;
pub(crate) const SWS_CS_ITU601: i32 = 5;
pub(crate) const SWS_CS_SMPTE240M: i32 = 7;
pub(crate) const SWS_CS_BT2020: i32 = 9;

/// The swscale matrix for a colour space tag; `None` when untagged or unsupported.
pub(crate) fn matrix_of(space: color::Space) -> Option<i32> {
    use color::Space as S;
    match space {
        S::BT709 => Some(SWS_CS_ITU709),
        S::FCC => Some(SWS_CS_FCC),
        S::BT470BG | S::SMPTE170M => Some(SWS_CS_ITU601),
        S::SMPTE240M => Some(SWS_CS_SMPTE240M),
        S::BT2020NCL | S::BT2020CL => Some(SWS_CS_BT2020),
        _ => None,
    }
}

/// (Kr, Kb) luma coefficients of a swscale matrix id, for converting Y'CbCr ourselves.
pub(crate) fn luma_coefficients(matrix: i32) -> Option<(f32, f32)> {
    match matrix {
        SWS_CS_BT2020 => Some((0.2627, 0.0593)),
        SWS_CS_ITU709 => Some((0.2126, 0.0722)),
        SWS_CS_ITU601 => Some((0.299, 0.114)),
        _ => None,
    }
}

/// FFmpeg's convention for untagged video: BT.709 for HD sizes, BT.601 below.
pub(crate) fn default_matrix(width: u32, height: u32) -> i32 {
    if width > 1024 || height > 576 {
        SWS_CS_ITU709
    } else {
        SWS_CS_ITU601
    }
}

/// Human-readable name of a swscale matrix, for `--explain`.
pub(crate) fn matrix_name(m: i32) -> &'static str {
    match m {
        SWS_CS_ITU709 => "BT.709",
        SWS_CS_FCC => "FCC",
        SWS_CS_ITU601 => "BT.601",
        SWS_CS_SMPTE240M => "SMPTE 240M",
        SWS_CS_BT2020 => "BT.2020",
        _ => "unknown",
    }
}

/// PQ signal (0..1) → absolute luminance in cd/m².
pub(crate) fn pq_to_nits(e: f64) -> f64 {
    let e = e.clamp(0.0, 1.0);
    let p = e.powf(1.0 / PQ_M2);
    let num = (p - PQ_C1).max(0.0);
    let den = PQ_C2 - PQ_C3 * p;
    if den <= 0.0 {
        return 10_000.0;
    }
    10_000.0 * (num / den).powf(1.0 / PQ_M1)
}

/// Absolute luminance in cd/m² → PQ signal (0..1).
pub(crate) fn nits_to_pq(nits: f64) -> f64 {
    let y = (nits / 10_000.0).clamp(0.0, 1.0);
    let ym = y.powf(PQ_M1);
    ((PQ_C1 + PQ_C2 * ym) / (1.0 + PQ_C3 * ym)).powf(PQ_M2)
}

/// HLG signal (0..1) → normalised scene light (0..1) (the inverse OETF).
pub(crate) fn hlg_to_scene(e: f64) -> f64 {
    let e = e.clamp(0.0, 1.0);
    if e <= 0.5 {
        e * e / 3.0
    } else {
        (((e - HLG_C) / HLG_A).exp() + HLG_B) / 12.0
    }
}

/// The BT.2390 EETF: maps luminance (cd/m²) from content peaking at `source_peak` into
/// a range peaking at `target_peak`, leaving everything below the knee unchanged.
pub(crate) fn bt2390_eetf(nits: f64, source_peak: f64, target_peak: f64) -> f64 {
    if source_peak <= target_peak {
        return nits.min(target_peak);
    }
    let src_max = nits_to_pq(source_peak);
    let e1 = nits_to_pq(nits) / src_max;
    let max_lum = nits_to_pq(target_peak) / src_max;
    let ks = 1.5 * max_lum - 0.5;
    let e2 = if e1 < ks {
        e1
    } else {
        let t = ((e1 - ks) / (1.0 - ks)).min(1.0);
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * ks + (t3 - 2.0 * t2 + t) * (1.0 - ks) + (-2.0 * t3 + 3.0 * t2) * max_lum
    };
    pq_to_nits(e2 * src_max)
}

/// Entries in the decoding table: 16-bit R'G'B' is looked up by its top 12 bits (HDR
/// video is 10-bit, so nothing is lost), a table small enough to stay in L1 cache.
pub(crate) const DECODE_BITS: u32 = 12;
/// The gain and output tables are indexed by a float's own bits: its exponent and the
/// top [`LOG_MANTISSA_BITS`] of its mantissa, from [`LOG_MIN`] up to 1.0. One clamp and
/// one shift find an entry, with 0.1 % relative precision at every brightness (deep
/// shadows included), instead of a square root and a float-to-integer conversion per
/// lookup: those made the full-size 4K HLG pick conversion ~200 ms on two threads.
const LOG_MANTISSA_BITS: u32 = 10;
const LOG_SHIFT: u32 = 23 - LOG_MANTISSA_BITS;
/// Light below this is black in 8 bits whatever the gain (2⁻²⁴).
const LOG_MIN: f32 = 1.0 / 16_777_216.0;
/// The bits of [`LOG_MIN`] and of 1.0 (`f32::to_bits` is not `const` before Rust 1.83).
const LOG_MIN_BITS: u32 = 0x3380_0000;
const ONE_BITS: u32 = 0x3f80_0000;
/// Entries in a table indexed by [`log_index`].
const LOG_STEPS: usize = ((ONE_BITS - LOG_MIN_BITS) >> LOG_SHIFT) as usize + 1;

/// The table entry for light `v` (clamped to `LOG_MIN..=1`; NaN counts as black, which
/// `f32::clamp` would pass through).
#[inline]
#[allow(clippy::manual_clamp)]
fn log_index(v: f32) -> usize {
    ((v.max(LOG_MIN).min(1.0).to_bits() - LOG_MIN_BITS) >> LOG_SHIFT) as usize
}

/// The light entry `k` stands for: the middle of the floats that index it (1.0 for the last).
fn log_value(k: usize) -> f64 {
    let bits = LOG_MIN_BITS + ((k as u32) << LOG_SHIFT) + (1 << (LOG_SHIFT - 1));
    f64::from(f32::from_bits(bits).min(1.0))
}

/// Tone-maps 16-bit HDR R'G'B' to 8-bit SDR R'G'B'. Built once per [`ColourSpec`].
///
/// Per pixel: three table lookups to linear light normalised to 0..1 (PQ: cd/m² over
/// the content's peak; HLG: scene light), its luminance y, one gain g(y) that folds in
/// the HLG OOTF, the BT.2390 EETF and the division by reference white (so
/// `sdr = linear · g(y)` keeps the hue), the BT.2020 → BT.709 matrix, and three lookups
/// to 8-bit BT.1886 values. The gain and output tables are indexed by [`log_index`].
pub(crate) struct ToneMapper {
    wide_gamut: bool,
    /// Top 12 bits of a 16-bit code → normalised linear light.
    decode: Vec<f32>,
    /// Luminance y ([`log_index`]) → gain to relative SDR light.
    gain: Vec<f32>,
    /// Linear SDR light, 0..1 ([`log_index`]) → 8-bit BT.1886-encoded value.
    encode: Vec<u8>,
    /// Luminance weights of the primaries the light is in.
    luma: [f32; 3],
}

impl ToneMapper {
    pub fn new(spec: &ColourSpec) -> ToneMapper {
        let peak =
            if spec.transfer == Transfer::Hlg { DEFAULT_PEAK_NITS } else { f64::from(spec.peak_nits.max(100.0)) };
        let decode: Vec<f32> = (0..1u32 << DECODE_BITS)
            .map(|k| {
                // The middle of the 16-bit codes this entry stands for.
                let e = (f64::from(k) + 0.5) / f64::from(1u32 << DECODE_BITS);
                match spec.transfer {
                    Transfer::Pq => (pq_to_nits(e) / peak) as f32,
                    Transfer::Hlg => hlg_to_scene(e) as f32,
                    Transfer::Sdr => e.powf(2.4) as f32,
                }
            })
            .collect();
        // Display luminance (cd/m²) of normalised luminance y: PQ is absolute; HLG's
        // OOTF for a 1000 cd/m² display is Yd = Lw · Ys^γ, γ = 1.2 (each channel gets
        // Lw · Ys^(γ−1) · E).
        let display = |y: f64| match spec.transfer {
            Transfer::Hlg => DEFAULT_PEAK_NITS * y.powf(1.2),
            _ => y * peak,
        };
        let gain: Vec<f32> = (0..LOG_STEPS)
            .map(|k| {
                let y = log_value(k);
                let yd = display(y);
                (bt2390_eetf(yd, peak, REFERENCE_WHITE_NITS) / (y * REFERENCE_WHITE_NITS)) as f32
            })
            .collect();
        let encode: Vec<u8> =
            (0..LOG_STEPS).map(|k| (log_value(k).powf(1.0 / 2.4) * 255.0).round().clamp(0.0, 255.0) as u8).collect();
        let luma = if spec.wide_gamut { BT2020_LUMA } else { [0.2126, 0.7152, 0.0722] };
        ToneMapper { wide_gamut: spec.wide_gamut, decode, gain, encode, luma }
    }

    /// One pixel: 16-bit non-linear R'G'B' → 8-bit SDR R'G'B'.
    #[inline]
    pub fn map_pixel(&self, r: u16, g: u16, b: u16) -> [u8; 3] {
        let shift = 16 - DECODE_BITS;
        self.map_linear([
            self.decode[usize::from(r >> shift)],
            self.decode[usize::from(g >> shift)],
            self.decode[usize::from(b >> shift)],
        ])
    }

    /// One pixel of non-linear R'G'B' as indexes into the decoding table (12-bit codes,
    /// as [`DECODE_BITS`] keeps) → 8-bit SDR R'G'B'. The full-size HDR conversion computes
    /// these indexes in integers straight from Y'CbCr.
    #[inline]
    pub fn map_codes(&self, rgb: [usize; 3]) -> [u8; 3] {
        self.map_linear(rgb.map(|k| self.decode[k.min(self.decode.len() - 1)]))
    }

    #[inline]
    fn map_linear(&self, rgb: [f32; 3]) -> [u8; 3] {
        let w = self.luma;
        let y = w[0] * rgb[0] + w[1] * rgb[1] + w[2] * rgb[2];
        let gain = self.gain[log_index(y)];
        let [r, g, b] = rgb.map(|c| c * gain);
        let out = if self.wide_gamut {
            let m = &BT2020_TO_BT709;
            [
                m[0][0] * r + m[0][1] * g + m[0][2] * b,
                m[1][0] * r + m[1][1] * g + m[1][2] * b,
                m[2][0] * r + m[2][1] * g + m[2][2] * b,
            ]
        } else {
            [r, g, b]
        };
        out.map(|c| self.encode[log_index(c)])
    }

    /// Maps a row of interleaved 16-bit R'G'B' (native-endian) into 8-bit R'G'B'.
    pub fn map_row(&self, src: &[u16], dst: &mut [u8]) {
        for (s, d) in src.chunks_exact(3).zip(dst.chunks_exact_mut(3)) {
            d.copy_from_slice(&self.map_pixel(s[0], s[1], s[2]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pq_round_trips_and_hits_known_points() {
        for nits in [0.1, 1.0, 100.0, 203.0, 1000.0, 4000.0, 10_000.0] {
            let back = pq_to_nits(nits_to_pq(nits));
            assert!((back - nits).abs() / nits < 1e-6, "{nits} -> {back}");
        }
        // ST 2084: 100 cd/m² ≈ 0.508, 1000 ≈ 0.752, 10000 = 1.
        assert!((nits_to_pq(100.0) - 0.508).abs() < 0.002);
        assert!((nits_to_pq(1000.0) - 0.752).abs() < 0.002);
        assert!((nits_to_pq(10_000.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn hlg_inverse_oetf_is_continuous_and_hits_reference_white() {
        let below = hlg_to_scene(0.5 - 1e-9);
        let above = hlg_to_scene(0.5 + 1e-9);
        assert!((below - above).abs() < 1e-6);
        assert!((hlg_to_scene(1.0) - 1.0).abs() < 1e-6);
        // BT.2408: 75 % HLG is reference white, 203 cd/m² on a 1000 cd/m² display.
        let scene = hlg_to_scene(0.75);
        let display = DEFAULT_PEAK_NITS * scene.powf(1.2);
        assert!((display - 203.0).abs() < 8.0, "75 % HLG shows at {display} cd/m²");
    }

    #[test]
    fn eetf_keeps_shadows_and_compresses_highlights_to_the_target() {
        assert!((bt2390_eetf(20.0, 1000.0, 203.0) - 20.0).abs() < 1e-6, "below the knee: unchanged");
        let top = bt2390_eetf(1000.0, 1000.0, 203.0);
        assert!((top - 203.0).abs() < 1.0, "the source peak lands on the target peak: {top}");
        let mut last = 0.0;
        for k in 1..=100 {
            let v = bt2390_eetf(k as f64 * 10.0, 1000.0, 203.0);
            assert!(v >= last - 1e-9, "monotonic");
            last = v;
        }
        assert_eq!(bt2390_eetf(150.0, 150.0, 203.0), 150.0, "nothing to compress");
    }

    fn spec(transfer: Transfer) -> ColourSpec {
        ColourSpec { transfer, wide_gamut: true, matrix: SWS_CS_BT2020, full_range: false, peak_nits: 1000.0 }
    }

    fn code(v: f64) -> u16 {
        (v * 65535.0).round() as u16
    }

    #[test]
    fn hdr_reference_white_becomes_sdr_white_and_black_stays_black() {
        let pq = ToneMapper::new(&spec(Transfer::Pq));
        let white = pq.map_pixel(code(nits_to_pq(203.0)), code(nits_to_pq(203.0)), code(nits_to_pq(203.0)));
        // The knee starts near 100 cd/m², so reference white is a little compressed to leave
        // room for highlights; the content's peak becomes full white.
        assert!(white.iter().all(|&c| c >= 225), "PQ 203 cd/m² white → {white:?}");
        let peak = code(nits_to_pq(1000.0));
        assert_eq!(pq.map_pixel(peak, peak, peak), [255, 255, 255]);
        assert_eq!(pq.map_pixel(0, 0, 0), [0, 0, 0]);
        let hlg = ToneMapper::new(&spec(Transfer::Hlg));
        let white = hlg.map_pixel(code(0.75), code(0.75), code(0.75));
        assert!(white.iter().all(|&c| c >= 225), "HLG 75 % white → {white:?}");
        // Mid grey (18 % of reference white) comes back as SDR mid grey (BT.1886 encoded).
        let grey_nits = 0.18 * REFERENCE_WHITE_NITS;
        let g = pq.map_pixel(code(nits_to_pq(grey_nits)), code(nits_to_pq(grey_nits)), code(nits_to_pq(grey_nits)));
        let expected = (0.18f64.powf(1.0 / 2.4) * 255.0) as i32;
        assert!((g[0] as i32 - expected).abs() <= 3, "grey {g:?}, expected ≈ {expected}");
    }

    #[test]
    fn log_table_bounds() {
        assert_eq!(LOG_MIN.to_bits(), LOG_MIN_BITS);
        assert_eq!(1.0f32.to_bits(), ONE_BITS);
        assert_eq!(log_index(f32::NAN), 0);
        assert_eq!(log_index(-1.0), 0);
        assert_eq!(log_index(7.0), LOG_STEPS - 1);
        assert_eq!(log_value(LOG_STEPS - 1), 1.0);
    }

    /// The tables against the same steps worked out in f64 for every pixel: within one
    /// 8-bit level everywhere, from deep shadows to the brightest highlights.
    #[test]
    fn tables_match_the_exact_curves_within_one_level() {
        for transfer in [Transfer::Hlg, Transfer::Pq] {
            let s = spec(transfer);
            let tone = ToneMapper::new(&s);
            let peak = if transfer == Transfer::Hlg { DEFAULT_PEAK_NITS } else { 1000.0 };
            let exact = |codes: [usize; 3]| -> [u8; 3] {
                let lin = codes.map(|k| {
                    let e = (k as f64 + 0.5) / f64::from(1u32 << DECODE_BITS);
                    match transfer {
                        Transfer::Pq => pq_to_nits(e) / peak,
                        _ => hlg_to_scene(e),
                    }
                });
                let w = BT2020_LUMA.map(f64::from);
                let y = (w[0] * lin[0] + w[1] * lin[1] + w[2] * lin[2]).clamp(1e-12, 1.0);
                let yd = if transfer == Transfer::Hlg { DEFAULT_PEAK_NITS * y.powf(1.2) } else { y * peak };
                let gain = bt2390_eetf(yd, peak, REFERENCE_WHITE_NITS) / (y * REFERENCE_WHITE_NITS);
                let m = BT2020_TO_BT709.map(|row| row.map(f64::from));
                let l = lin.map(|c| c * gain);
                [0, 1, 2].map(|i| {
                    let c = (m[i][0] * l[0] + m[i][1] * l[1] + m[i][2] * l[2]).clamp(0.0, 1.0);
                    (c.powf(1.0 / 2.4) * 255.0).round() as u8
                })
            };
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 4096) as usize
            };
            let mut worst = 0;
            for n in 0..200_000 {
                // Greys and near-greys at every level, then arbitrary colours.
                let codes = if n < 4096 { [n; 3] } else { [next(), next(), next()] };
                let (a, b) = (tone.map_codes(codes), exact(codes));
                for i in 0..3 {
                    worst = worst.max((i32::from(a[i]) - i32::from(b[i])).abs());
                }
            }
            assert!(worst <= 1, "{transfer:?}: off by {worst} levels");
        }
    }

    #[test]
    fn saturated_bt2020_colour_stays_saturated_and_keeps_its_hue() {
        let pq = ToneMapper::new(&spec(Transfer::Pq));
        // A strong red at 100 cd/m²: the SDR result is red, not grey.
        let r = code(nits_to_pq(100.0));
        let low = code(nits_to_pq(5.0));
        let out = pq.map_pixel(r, low, low);
        assert!(out[0] > 150 && out[1] < 90 && out[2] < 90, "{out:?}");
        // Highlights above reference white are compressed, not clipped flat.
        let a = pq.map_pixel(code(nits_to_pq(400.0)), code(nits_to_pq(400.0)), code(nits_to_pq(400.0)));
        let b = pq.map_pixel(code(nits_to_pq(150.0)), code(nits_to_pq(150.0)), code(nits_to_pq(150.0)));
        assert!(a[0] >= b[0]);
    }
}
