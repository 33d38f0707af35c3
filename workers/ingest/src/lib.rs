//! The scan line's worker. Today it holds the image handling every page goes
//! through before OCR (`image`): decoding under limits, deskew,
//! binarisation, blank-page detection, thumbnails and digests. The queue
//! consumer, OCR engines, extraction and routing build on it.

pub mod image;
