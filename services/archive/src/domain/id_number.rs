//! Mainland citizen ID numbers (公民身份号码, GB 11643-1999): 17 digits and a
//! check character computed with ISO 7064 MOD 11-2.

use std::fmt;

use chrono::NaiveDate;

use super::text::to_half_width;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("must have 18 characters, found {0}")]
    Length(usize),
    #[error("the first 17 characters must be digits")]
    NotDigits,
    #[error("the last character must be a digit or X")]
    BadLast,
    #[error("unknown region code {0}")]
    Region(String),
    #[error("birth date {0} in the number is not a real date")]
    BirthDate(String),
    #[error("check character is {found} but the number requires {expected} (GB 11643)")]
    Check { found: char, expected: char },
}

/// A valid 18-character ID number, upper-case X.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Province-level codes (first two digits), including 81/82/83 of Hong Kong,
/// Macao and Taiwan residence permits.
const REGIONS: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// The check character the first 17 digits require.
pub fn check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s: String =
            to_half_width(input).chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdNumberError::Length(n));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(IdNumberError::NotDigits);
        }
        let last = b[17] as char;
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(IdNumberError::BadLast);
        }
        let region: u32 = s[..2].parse().unwrap_or(0);
        if !REGIONS.contains(&region) {
            return Err(IdNumberError::Region(s[..2].to_string()));
        }
        if NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").is_err() || &s[6..8] < "18" {
            return Err(IdNumberError::BirthDate(s[6..14].to_string()));
        }
        let mut first = [0u8; 17];
        first.copy_from_slice(&b[..17]);
        let expected = check_char(&first);
        if expected != last {
            return Err(IdNumberError::Check { found: last, expected });
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked in parse")
    }

    /// The 17th digit is odd for men and even for women.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// `110105********1234`: region code and the last four stay visible.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Debug for IdNumber {
    // Never print the plain number in logs or panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(v: IdNumber) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid number from 17 digits by appending the check character.
    fn with_check(first17: &str) -> String {
        let mut b = [0u8; 17];
        b.copy_from_slice(first17.as_bytes());
        format!("{first17}{}", check_char(&b))
    }

    #[test]
    fn accepts_the_published_example() {
        // The example number of GB 11643's annex.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert!(!id.is_male());
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn normalises_lower_x_and_full_width_digits() {
        assert_eq!(IdNumber::parse(" 11010519491231002x ").unwrap().as_str(), "11010519491231002X");
        assert_eq!(IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap().as_str(), "11010519491231002X");
    }

    #[test]
    fn rejects_each_kind_of_bad_number() {
        assert_eq!(IdNumber::parse("1101051949123100"), Err(IdNumberError::Length(16)));
        assert_eq!(IdNumber::parse("11010519491231A02X"), Err(IdNumberError::NotDigits));
        assert_eq!(IdNumber::parse("110105194912310021"), Err(IdNumberError::Check { found: '1', expected: 'X' }));
        assert!(matches!(IdNumber::parse(&with_check("99010519491231002")), Err(IdNumberError::Region(_))));
        assert!(matches!(IdNumber::parse(&with_check("11010519490231002")), Err(IdNumberError::BirthDate(_))));
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        // MOD 11-2 detects every single-digit substitution.
        let good = "11010519491231002X";
        for pos in 0..17 {
            for d in b'0'..=b'9' {
                let mut b = good.as_bytes().to_vec();
                if b[pos] == d {
                    continue;
                }
                b[pos] = d;
                let s = String::from_utf8(b).unwrap();
                assert!(IdNumber::parse(&s).is_err(), "{s} was accepted");
            }
        }
    }

    #[test]
    fn debug_output_is_masked() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert!(!format!("{id:?}").contains("19491231"));
    }
}
