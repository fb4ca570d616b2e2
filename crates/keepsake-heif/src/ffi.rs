//! The few libheif calls this crate makes, declared as in `libheif/heif.h` (1.15). Enum
//! values are the header's; they are part of libheif's ABI and have not changed since
//! the API was introduced.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int};

#[repr(C)]
pub struct heif_context {
    _private: [u8; 0],
}
#[repr(C)]
pub struct heif_image_handle {
    _private: [u8; 0],
}
#[repr(C)]
pub struct heif_image {
    _private: [u8; 0],
}
#[repr(C)]
pub struct heif_reading_options {
    _private: [u8; 0],
}
#[repr(C)]
pub struct heif_decoding_options {
    _private: [u8; 0],
}

/// `struct heif_error`, returned by value.
#[repr(C)]
pub struct heif_error {
    pub code: c_int,
    pub subcode: c_int,
    pub message: *const c_char,
}

/// `heif_error_Ok`.
pub const HEIF_ERROR_OK: c_int = 0;
/// `heif_colorspace_RGB`.
pub const HEIF_COLORSPACE_RGB: c_int = 1;
/// `heif_chroma_interleaved_RGB`: 8 bits per channel, R G B.
pub const HEIF_CHROMA_INTERLEAVED_RGB: c_int = 10;
/// `heif_channel_interleaved`.
pub const HEIF_CHANNEL_INTERLEAVED: c_int = 10;

#[link(name = "heif")]
extern "C" {
    pub fn heif_get_version() -> *const c_char;
    pub fn heif_context_alloc() -> *mut heif_context;
    pub fn heif_context_free(ctx: *mut heif_context);
    pub fn heif_context_read_from_file(
        ctx: *mut heif_context,
        filename: *const c_char,
        options: *const heif_reading_options,
    ) -> heif_error;
    pub fn heif_context_get_primary_image_handle(
        ctx: *mut heif_context,
        handle: *mut *mut heif_image_handle,
    ) -> heif_error;
    pub fn heif_image_handle_release(handle: *const heif_image_handle);
    pub fn heif_image_handle_get_width(handle: *const heif_image_handle) -> c_int;
    pub fn heif_image_handle_get_height(handle: *const heif_image_handle) -> c_int;
    pub fn heif_decode_image(
        handle: *const heif_image_handle,
        out_img: *mut *mut heif_image,
        colorspace: c_int,
        chroma: c_int,
        options: *const heif_decoding_options,
    ) -> heif_error;
    pub fn heif_image_get_width(img: *const heif_image, channel: c_int) -> c_int;
    pub fn heif_image_get_height(img: *const heif_image, channel: c_int) -> c_int;
    pub fn heif_image_get_plane_readonly(img: *const heif_image, channel: c_int, stride: *mut c_int) -> *const u8;
    pub fn heif_image_release(img: *const heif_image);
}
