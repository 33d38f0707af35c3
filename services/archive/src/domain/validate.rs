//! Field rules shared by every way data enters the archive (gRPC today, the
//! scan line later). Each returns the cleaned value or a reason in words.

use chrono::NaiveDate;

use super::error::Violations;
use super::model::UnitAddress;
use super::text::{clean, required, to_half_width};

/// Organisation and site codes: upper-case ASCII letters and digits, 1-16.
pub fn code(s: &str) -> Result<String, String> {
    let v = to_half_width(s.trim()).to_ascii_uppercase();
    if v.is_empty() {
        return Err("is required".into());
    }
    if v.len() > 16 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("must be 1-16 letters or digits (e.g. CPM, AVIC)".into());
    }
    Ok(v)
}

/// One part of a unit address: letters, digits or Chinese characters; no
/// dashes, which separate the parts on dossier labels.
fn address_part(s: &str, optional: bool) -> Result<String, String> {
    let v = if optional { clean(s, 16)? } else { required(s, 16)? };
    if !v.chars().all(char::is_alphanumeric) {
        return Err(format!("{v:?} may only hold letters, digits and Chinese characters"));
    }
    Ok(v)
}

pub fn unit_address(
    building: &str,
    unit: &str,
    floor: i32,
    room: &str,
    prefix: &str,
    v: &mut Violations,
) -> Option<UnitAddress> {
    let b = v.check(&format!("{prefix}building"), address_part(building, false));
    let u = v.check(&format!("{prefix}unit"), address_part(unit, true));
    let r = v.check(&format!("{prefix}room"), address_part(room, false));
    let f = v.check(
        &format!("{prefix}floor"),
        if (-10..=200).contains(&floor) { Ok(floor) } else { Err(format!("{floor} is outside -10..200")) },
    );
    Some(UnitAddress { building: b?, unit: u?, floor: f?, room: r? })
}

/// An ISO 8601 calendar date (YYYY-MM-DD) between 1900 and 2200.
pub fn date(s: &str) -> Result<NaiveDate, String> {
    let t = to_half_width(s.trim());
    let d =
        NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| format!("{t:?} is not a date in the form YYYY-MM-DD"))?;
    if !(1900..=2200).contains(&chrono::Datelike::year(&d)) {
        return Err(format!("{t} is outside 1900-2200"));
    }
    Ok(d)
}

/// Optional date: empty means none.
pub fn optional_date(s: &str) -> Result<Option<NaiveDate>, String> {
    if s.trim().is_empty() { Ok(None) } else { date(s).map(Some) }
}

/// Names of people and companies.
pub fn name(s: &str) -> Result<String, String> {
    required(s, 100)
}

/// Client idempotency keys: 1-64 printable ASCII characters; empty means none.
pub fn request_id(s: &str) -> Result<Option<String>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() > 64 || !t.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be 1-64 printable ASCII characters".into());
    }
    Ok(Some(t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let mut v = Violations::new();
        let a = unit_address(" ３ ", "2", 12, "1201", "a.", &mut v).unwrap();
        assert_eq!(a.label(), "3-2-12-1201");
        assert!(v.is_empty());
        assert!(unit_address("3-1", "", 300, "", "a.", &mut v).is_none());
        let err = v.into_result().unwrap_err().to_string();
        assert!(err.contains("a.building") && err.contains("a.floor") && err.contains("a.room"), "{err}");
    }

    #[test]
    fn dates_and_codes() {
        assert!(date("2024-02-30").is_err());
        assert_eq!(date("２０２４-０２-２９").unwrap().to_string(), "2024-02-29");
        assert_eq!(code(" cpm ").unwrap(), "CPM");
        assert!(code("C-PM").is_err());
        assert_eq!(request_id("").unwrap(), None);
        assert!(request_id("a b").is_err());
    }
}
