//! Gzip → JSON text: one libdeflate call for a plain one-member file (what CloudTrail
//! writes), flate2 for anything else and for every error.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use super::ParseError;

/// Turns raw input bytes into JSON text: gunzips when the gzip magic is present.
/// `buffer` is reused across calls to keep allocations flat.
///
/// # Errors
/// Corrupt gzip data, or more than `limit` bytes of output.
pub fn decode<'b>(
    raw: &'b [u8],
    buffer: &'b mut Vec<u8>,
    limit: u64,
) -> Result<&'b [u8], ParseError> {
    if raw.is_empty() {
        return Err(ParseError::Empty);
    }
    if !raw.starts_with(&[0x1f, 0x8b]) {
        if raw.len() as u64 > limit {
            return Err(ParseError::TooLarge { limit });
        }
        return Ok(raw);
    }
    if inflate_whole(raw, buffer, limit) {
        return Ok(buffer);
    }
    buffer.clear();
    // The gzip trailer holds the size modulo 2^32: a good first guess for one member.
    if let Some(hint) = trailer_size(raw) {
        buffer.reserve(usize::try_from(u64::from(hint).min(limit)).unwrap_or(0));
    }
    let mut decoder = MultiGzDecoder::new(raw).take(limit.saturating_add(1));
    decoder.read_to_end(buffer).map_err(ParseError::Gzip)?;
    if buffer.len() as u64 > limit {
        return Err(ParseError::TooLarge { limit });
    }
    Ok(buffer)
}

/// The last four bytes of a gzip input: its last member's size modulo 2^32 (ISIZE).
#[must_use]
pub fn trailer_size(raw: &[u8]) -> Option<u32> {
    let tail = raw.get(raw.len().checked_sub(4)?..)?;
    Some(u32::from_le_bytes(<[u8; 4]>::try_from(tail).ok()?))
}

/// The gzip header flag FTEXT, a hint both decoders ignore. Any other flag sends a file to
/// flate2: libdeflate skips a header CRC-16 unchecked, and reads names, comments and
/// extra fields of any length, where flate2 checks the one and caps the others.
const FTEXT: u8 = 1;

/// The most output one byte of deflate data can give (a 258-byte match in 2 bits).
const MAX_DEFLATE_RATIO: usize = 1_032;

thread_local! {
    static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
        std::cell::RefCell::new(libdeflater::Decompressor::new());
}

/// Inflates a one-member gzip input in a single call of libdeflate into a buffer of the
/// size its trailer states (CloudTrail writes each log file as one member, with a bare
/// header). Returns false, with `buffer` unspecified, for anything else — several members,
/// trailing bytes, a size over `limit`, corrupt data, a header with optional fields —
/// which the caller then decodes with flate2, so every error still reads as flate2
/// reports it.
///
/// libdeflate checks the member's CRC-32 and size against the trailer right after its
/// deflate stream, but does not say where that stream ended. It ended at the end of the
/// input when the size it checked (the output's length, four bytes little-endian) occurs
/// in the input only as its last four bytes: a member ending sooner has it at an earlier
/// offset, even one overlapping the last four bytes. A chance occurrence inside the
/// compressed data (about one file in 40,000 of CloudTrail's size) only sends that file
/// down the slower path.
///
/// One difference is left, on purpose: libdeflate decodes a few malformed deflate streams
/// that zlib refuses (a dynamic block declaring 288 length codes, distance codes 30 and
/// 31). Damage cannot produce one that also passes the CRC-32 check, so such a file was
/// made that way deliberately, and whoever can write it could as well write the same
/// content well-formed. The test `lenient_deflate_is_read` pins this.
pub(super) fn inflate_whole(raw: &[u8], buffer: &mut Vec<u8>, limit: u64) -> bool {
    let Some(size) = trailer_size(raw) else {
        return false;
    };
    let Ok(size) = usize::try_from(size) else {
        return false;
    };
    // Deflate expands at most 1,032 to 1: a trailer claiming more lies, and the buffer it
    // asks for would be zeroed for nothing (flate2 finds the truth without it).
    if size as u64 > limit
        || size > raw.len().saturating_mul(MAX_DEFLATE_RATIO)
        || raw.get(3).is_none_or(|flags| flags & !FTEXT != 0)
    {
        return false;
    }
    // Grown (and zeroed) only past its current length: after a file of the fast path the
    // whole of it, after one of flate2's only what that left.
    if buffer.len() < size {
        buffer.resize(size, 0);
    } else {
        buffer.truncate(size);
    }
    let Ok(written) = INFLATER.with_borrow_mut(|inflater| inflater.gzip_decompress(raw, buffer))
    else {
        return false;
    };
    let Ok(written_isize) = u32::try_from(written) else {
        return false;
    };
    // Every four-byte window but the last: one overlapping the last counts too (a member
    // followed by one to three stray bytes has its size there).
    let before_last = raw.get(..raw.len().saturating_sub(1)).unwrap_or_default();
    if written != size || memchr::memmem::find(before_last, &written_isize.to_le_bytes()).is_some()
    {
        return false;
    }
    true
}
