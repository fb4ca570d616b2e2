//! HEIC/HEIF and AVIF photos, decoded by the system's libheif (Debian 12: 1.15, with
//! libde265 for HEVC and dav1d/libaom for AV1).
//!
//! Why a crate of its own: libheif and its codecs are C, and parse files that come from
//! anywhere. Only the `keepsake` worker links this crate; the window's process asks a
//! worker for HEIF thumbnails (as it does for every FFmpeg render), so a decoder crash
//! fails one photo, not the app. `src-tauri/tests/linking.rs` checks the window never
//! loads libheif.
//!
//! The bindings are written here by hand against libheif's stable C API (the calls below
//! exist unchanged since libheif 1.4), because the `libheif-rs`/`libheif-sys` crates
//! require libheif ≥ 1.17, which Debian 12 does not ship.
//!
//! Public surface:
//! - [`thumbnail`]: an upright, shrunk JPEG of a HEIF/AVIF photo (libheif applies the
//!   file's own rotation, mirror and crop), refused before decoding when it declares
//!   more pixels than the limit.
//! - [`dimensions`]: the photo's displayed size, from its header.
//! - [`libheif_version`]: for `keepsake doctor`.

mod ffi;

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use keepsake_imaging::{ImagingError, Thumbnail};

/// The libheif this process loaded, e.g. "1.15.1".
pub fn libheif_version() -> String {
    // SAFETY: returns a pointer to a static, NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::heif_get_version()) }.to_string_lossy().into_owned()
}

/// The size `photo` is shown at (after its rotation), read from its header.
pub fn dimensions(photo: &Path) -> Result<(u32, u32), ImagingError> {
    let ctx = Context::open(photo)?;
    let handle = ctx.primary(photo)?;
    Ok(handle.size())
}

/// Writes an upright copy of the HEIF/AVIF `photo`, at most `max_side` on its longest
/// side (never enlarged), as a JPEG at `out`. More than `max_pixels` → `TooLarge`, before
/// a pixel is decoded (a HEIC can declare a 60 000 × 60 000 grid of tiles).
pub fn thumbnail(photo: &Path, out: &Path, max_side: u32, max_pixels: u64) -> Result<Thumbnail, ImagingError> {
    let ctx = Context::open(photo)?;
    let handle = ctx.primary(photo)?;
    let (w, h) = handle.size();
    if w == 0 || h == 0 {
        return Err(undecodable(photo, "the photo declares no size"));
    }
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(ImagingError::TooLarge { path: photo.to_owned(), width: w, height: h, limit: max_pixels });
    }
    let rgb = handle.decode_rgb(photo)?;
    keepsake_imaging::write_thumbnail(image::DynamicImage::ImageRgb8(rgb), out, max_side)
}

fn undecodable(photo: &Path, reason: impl Into<String>) -> ImagingError {
    ImagingError::Undecodable { path: photo.to_owned(), reason: reason.into() }
}

/// libheif's error as text ("Invalid input: Unsupported codec", …).
fn error_text(err: &ffi::heif_error) -> String {
    let message = if err.message.is_null() {
        String::new()
    } else {
        // SAFETY: libheif documents `message` as always a valid C string (static or
        // owned by the context, which outlives this call).
        unsafe { CStr::from_ptr(err.message) }.to_string_lossy().into_owned()
    };
    // One line: libheif ends some messages with a line break, and the reason is shown
    // on a tile and stored in the index.
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if message.is_empty() {
        format!("libheif error {}.{}", err.code, err.subcode)
    } else {
        message
    }
}

/// An open HEIF file. Freed on drop.
struct Context {
    ptr: *mut ffi::heif_context,
}

impl Context {
    fn open(photo: &Path) -> Result<Context, ImagingError> {
        keepsake_imaging::check_photo_file(photo)?;
        let name = CString::new(photo.as_os_str().as_bytes())
            .map_err(|_| ImagingError::NotImage { path: photo.to_owned(), reason: "a NUL byte in its name".into() })?;
        // SAFETY: allocation has no preconditions; null means out of memory.
        let ptr = unsafe { ffi::heif_context_alloc() };
        if ptr.is_null() {
            return Err(undecodable(photo, "libheif could not allocate a context"));
        }
        let ctx = Context { ptr };
        // SAFETY: `ptr` is a live context, `name` a NUL-terminated path; null options
        // mean libheif's defaults.
        let err = unsafe { ffi::heif_context_read_from_file(ctx.ptr, name.as_ptr(), std::ptr::null()) };
        if err.code != ffi::HEIF_ERROR_OK {
            return Err(ImagingError::NotImage { path: photo.to_owned(), reason: error_text(&err) });
        }
        Ok(ctx)
    }

    fn primary(&self, photo: &Path) -> Result<Handle<'_>, ImagingError> {
        let mut handle = std::ptr::null_mut();
        // SAFETY: live context; libheif writes a new handle (or nothing, on error).
        let err = unsafe { ffi::heif_context_get_primary_image_handle(self.ptr, &mut handle) };
        if err.code != ffi::HEIF_ERROR_OK || handle.is_null() {
            return Err(undecodable(photo, error_text(&err)));
        }
        Ok(Handle { ptr: handle, _ctx: std::marker::PhantomData })
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: allocated by heif_context_alloc, freed once; handles borrow `self`, so
        // they are released first.
        unsafe { ffi::heif_context_free(self.ptr) }
    }
}

/// The primary image of a [`Context`]. Released on drop, before its context.
struct Handle<'c> {
    ptr: *mut ffi::heif_image_handle,
    _ctx: std::marker::PhantomData<&'c Context>,
}

impl Handle<'_> {
    /// Displayed size: libheif reports it after the file's rotation and crop.
    fn size(&self) -> (u32, u32) {
        // SAFETY: live handle.
        let (w, h) =
            unsafe { (ffi::heif_image_handle_get_width(self.ptr), ffi::heif_image_handle_get_height(self.ptr)) };
        (u32::try_from(w).unwrap_or(0), u32::try_from(h).unwrap_or(0))
    }

    /// The picture as 8-bit RGB, upright (libheif applies `irot`, `imir` and `clap`).
    fn decode_rgb(&self, photo: &Path) -> Result<image::RgbImage, ImagingError> {
        let mut img = std::ptr::null_mut();
        // SAFETY: live handle; libheif writes a new image (or nothing, on error); null
        // options are its defaults, which include applying the transformations.
        let err = unsafe {
            ffi::heif_decode_image(
                self.ptr,
                &mut img,
                ffi::HEIF_COLORSPACE_RGB,
                ffi::HEIF_CHROMA_INTERLEAVED_RGB,
                std::ptr::null(),
            )
        };
        if err.code != ffi::HEIF_ERROR_OK || img.is_null() {
            if !img.is_null() {
                // SAFETY: an image libheif handed over; released once.
                unsafe { ffi::heif_image_release(img) };
            }
            return Err(undecodable(photo, error_text(&err)));
        }
        let image = Image { ptr: img };
        image.to_rgb(photo)
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // SAFETY: obtained from libheif, released once.
        unsafe { ffi::heif_image_handle_release(self.ptr) }
    }
}

/// A decoded picture owned by libheif. Released on drop.
struct Image {
    ptr: *mut ffi::heif_image,
}

impl Image {
    fn to_rgb(&self, photo: &Path) -> Result<image::RgbImage, ImagingError> {
        let channel = ffi::HEIF_CHANNEL_INTERLEAVED;
        let mut stride: std::os::raw::c_int = 0;
        // SAFETY: live image; the plane stays valid until the image is released, which
        // happens after the copy below.
        let (w, h, plane) = unsafe {
            (
                ffi::heif_image_get_width(self.ptr, channel),
                ffi::heif_image_get_height(self.ptr, channel),
                ffi::heif_image_get_plane_readonly(self.ptr, channel, &mut stride),
            )
        };
        let (Ok(w), Ok(h), Ok(stride)) = (usize::try_from(w), usize::try_from(h), usize::try_from(stride)) else {
            return Err(undecodable(photo, "libheif returned no RGB picture"));
        };
        let row = w * 3;
        if plane.is_null() || w == 0 || h == 0 || stride < row {
            return Err(undecodable(photo, "libheif returned no RGB picture"));
        }
        let mut pixels = Vec::with_capacity(row * h);
        for y in 0..h {
            // SAFETY: libheif's interleaved plane holds `h` rows of `stride` bytes, each
            // starting with `w` RGB pixels (checked: stride ≥ 3w).
            let line = unsafe { std::slice::from_raw_parts(plane.add(y * stride), row) };
            pixels.extend_from_slice(line);
        }
        image::RgbImage::from_raw(w as u32, h as u32, pixels).ok_or_else(|| undecodable(photo, "short RGB picture"))
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: obtained from heif_decode_image, released once.
        unsafe { ffi::heif_image_release(self.ptr) }
    }
}
