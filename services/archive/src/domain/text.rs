//! Small text helpers for input typed on Chinese keyboards or read by OCR.

/// Maps full-width ASCII forms (ＡＢＣ１２３－) and the ideographic space to
/// their half-width equivalents; everything else is kept.
pub fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Trims, converts to half width, and rejects control characters and
/// overlong values. Returns the cleaned value.
pub fn clean(s: &str, max_chars: usize) -> Result<String, String> {
    let v = to_half_width(s.trim());
    if v.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    let n = v.chars().count();
    if n > max_chars {
        return Err(format!("is {n} characters long, at most {max_chars} allowed"));
    }
    Ok(v)
}

/// Like [`clean`], and the value must not be empty.
pub fn required(s: &str, max_chars: usize) -> Result<String, String> {
    let v = clean(s, max_chars)?;
    if v.is_empty() { Err("is required".into()) } else { Ok(v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_width() {
        assert_eq!(to_half_width("Ａ座１２０１－Ｘ"), "A座1201-X");
        assert_eq!(required("  ", 5), Err("is required".into()));
        assert!(clean("a\u{0}b", 5).is_err());
        assert!(clean("张三李四王五", 5).is_err());
    }
}
