//! Procedural landscapes for the demo album: a sky, a sun and layered hills in a few
//! palettes, cheap enough to paint every frame.

use image::{Rgb, RgbImage};

/// One look: sky top and horizon, sun, and three hill colours (far to near).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    pub sky_top: [f32; 3],
    pub horizon: [f32; 3],
    pub sun: [f32; 3],
    pub hills: [[f32; 3]; 3],
}

pub(crate) const PALETTES: [Palette; 5] = [
    // Dawn.
    Palette {
        sky_top: [52., 72., 140.],
        horizon: [250., 182., 140.],
        sun: [255., 236., 190.],
        hills: [[120., 104., 150.], [78., 70., 118.], [40., 38., 70.]],
    },
    // Noon by the sea.
    Palette {
        sky_top: [60., 130., 215.],
        horizon: [190., 225., 245.],
        sun: [255., 255., 235.],
        hills: [[110., 160., 150.], [60., 130., 95.], [30., 90., 60.]],
    },
    // Golden hour.
    Palette {
        sky_top: [120., 70., 120.],
        horizon: [255., 170., 80.],
        sun: [255., 225., 150.],
        hills: [[170., 100., 90.], [110., 60., 70.], [55., 30., 45.]],
    },
    // Snow.
    Palette {
        sky_top: [150., 180., 215.],
        horizon: [235., 240., 248.],
        sun: [255., 255., 250.],
        hills: [[210., 220., 235.], [170., 185., 210.], [110., 125., 160.]],
    },
    // Forest.
    Palette {
        sky_top: [90., 150., 190.],
        horizon: [215., 230., 200.],
        sun: [255., 250., 220.],
        hills: [[100., 140., 110.], [50., 100., 70.], [20., 60., 40.]],
    },
];

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

/// Paints a landscape at animation time `t` (seconds); `seed` varies the hills.
pub(crate) fn landscape(w: u32, h: u32, p: &Palette, seed: f32, t: f32) -> RgbImage {
    let mut img = RgbImage::new(w, h);
    let (wf, hf) = (w as f32, h as f32);
    let sun = (wf * (0.25 + 0.5 * ((seed * 1.7).sin() * 0.5 + 0.5)) + t * wf * 0.02, hf * (0.32 - 0.015 * t));
    let sun_r = hf * 0.07;
    let drift = t * 0.06;
    let ridge = |layer: usize, x: f32| -> f32 {
        let l = layer as f32;
        let base = hf * (0.52 + 0.12 * l);
        let f = (1.5 + l) / wf * std::f32::consts::TAU;
        base - hf * (0.07 + 0.02 * l) * (x * f + seed * (3.0 + l) + drift * (l + 1.0)).sin()
            - hf * 0.03 * (x * f * 2.7 + seed * 5.0 + drift * 2.0 * (l + 1.0)).sin()
    };
    for x in 0..w {
        let xf = x as f32;
        let ridges = [ridge(0, xf), ridge(1, xf), ridge(2, xf)];
        for y in 0..h {
            let yf = y as f32;
            let mut c = mix(p.sky_top, p.horizon, (yf / (hf * 0.62)).min(1.0).powf(1.3));
            let d = ((xf - sun.0).powi(2) + (yf - sun.1).powi(2)).sqrt();
            if d < sun_r {
                c = p.sun;
            } else {
                let glow = (1.0 - (d - sun_r) / (hf * 0.35)).max(0.0).powi(2) * 0.55;
                c = mix(c, p.sun, glow);
            }
            for (layer, top) in ridges.iter().enumerate() {
                if yf >= *top {
                    // Haze: farther hills lean towards the horizon colour; shade downwards.
                    let depth = ((yf - top) / hf).min(1.0);
                    c = mix(mix(p.hills[layer], p.horizon, 0.25 - 0.1 * layer as f32), [0., 0., 0.], depth * 0.35);
                }
            }
            img.put_pixel(
                x,
                y,
                Rgb([c[0].clamp(0., 255.) as u8, c[1].clamp(0., 255.) as u8, c[2].clamp(0., 255.) as u8]),
            );
        }
    }
    img
}

/// `img` darkened towards black by `k` (0 = unchanged, 1 = black).
pub(crate) fn darken(img: &mut RgbImage, k: f32) {
    for v in img.iter_mut() {
        *v = (*v as f32 * (1.0 - k.clamp(0.0, 1.0))) as u8;
    }
}
