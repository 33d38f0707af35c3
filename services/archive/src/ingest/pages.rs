//! How many pages an uploaded file holds, read from its header only, so a
//! multi-page TIFF becomes one job per page. Files that are not images are
//! one "page" whose job fails in the worker with the decoder's reason.

use std::io::Cursor;

pub fn count_pages(bytes: &[u8], max_pages: u32) -> Result<u32, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let tiff = bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*");
    if !tiff {
        return Ok(1);
    }
    let Ok(mut d) = tiff::decoder::Decoder::new(Cursor::new(bytes)) else { return Ok(1) };
    let mut n = 1u32;
    while d.more_images() {
        if d.next_image().is_err() {
            break;
        }
        n += 1;
        if n > max_pages {
            return Err(format!("the TIFF holds more than {max_pages} pages"));
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert!(count_pages(b"", 10).is_err());
        assert_eq!(count_pages(b"\x89PNG....", 10), Ok(1));
        assert_eq!(count_pages(b"hello", 10), Ok(1));
        let mut out = Cursor::new(Vec::new());
        {
            let mut t = tiff::encoder::TiffEncoder::new(&mut out).unwrap();
            for _ in 0..3 {
                t.write_image::<tiff::encoder::colortype::Gray8>(4, 4, &[0u8; 16]).unwrap();
            }
        }
        assert_eq!(count_pages(out.get_ref(), 10), Ok(3));
        assert!(count_pages(out.get_ref(), 2).is_err());
    }
}
