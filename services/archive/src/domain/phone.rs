//! Phone numbers: mainland mobiles and landlines with an area code.

use std::fmt;

use super::text::to_half_width;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is not a phone number: use 11 mobile digits (13812345678) or area code and number (010-12345678)")]
    Format,
}

/// A normalised phone: `13812345678` or `0371-12345678` (optionally `-ext`).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let s: String = to_half_width(input).chars().filter(|c| !matches!(c, ' ' | '(' | ')' | '\t')).collect();
        let s = s.strip_prefix("+86").or_else(|| s.strip_prefix("0086")).unwrap_or(&s).trim_start_matches('-');
        let digits: String = s.chars().filter(|c| *c != '-').collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneError::Format);
        }
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Self(digits));
        }
        if b.first() == Some(&b'0') {
            // 010 and 02x are three-digit area codes, the rest four digits.
            let area_len = if matches!(b.get(1), Some(b'1') | Some(b'2')) { 3 } else { 4 };
            // An extension is whatever follows a second dash.
            let mut parts = s.splitn(3, '-');
            let first = parts.next().unwrap_or("");
            let (number_digits, ext) = if first.len() > area_len {
                (digits.clone(), None)
            } else {
                let num = parts.next().unwrap_or("");
                (format!("{first}{num}"), parts.next())
            };
            if number_digits.len() < area_len + 7 || number_digits.len() > area_len + 8 {
                return Err(PhoneError::Format);
            }
            let (area, local) = number_digits.split_at(area_len);
            let mut out = format!("{area}-{local}");
            if let Some(e) = ext {
                if e.is_empty() || e.len() > 6 {
                    return Err(PhoneError::Format);
                }
                out.push('-');
                out.push_str(e);
            }
            return Ok(Self(out));
        }
        Err(PhoneError::Format)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678` for mobiles, `010-****5678` for landlines.
    pub fn masked(&self) -> String {
        match self.0.split_once('-') {
            None => format!("{}****{}", &self.0[..3], &self.0[7..]),
            Some((area, rest)) => {
                let local = rest.split('-').next().unwrap_or(rest);
                format!("{area}-****{}", &local[local.len() - 4..])
            }
        }
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(v: Phone) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        for s in ["13812345678", "+86 138 1234 5678", "138-1234-5678", "１３８１２３４５６７８"] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "13812345678", "{s}");
        }
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
        for s in ["12812345678", "1381234567", "138123456789", "1381234567a", ""] {
            assert!(Phone::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn landlines() {
        assert_eq!(Phone::parse("010-12345678").unwrap().as_str(), "010-12345678");
        assert_eq!(Phone::parse("(0371)6512345").unwrap().as_str(), "0371-6512345");
        assert_eq!(Phone::parse("02187654321").unwrap().as_str(), "021-87654321");
        assert_eq!(Phone::parse("010-12345678-801").unwrap().as_str(), "010-12345678-801");
        assert_eq!(Phone::parse("010-12345678").unwrap().masked(), "010-****5678");
        assert!(Phone::parse("010-123").is_err());
    }
}
