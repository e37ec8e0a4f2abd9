//! HTTP `Range` requests (RFC 9110 §14), for media seeking. One range only: a server
//! may ignore a `Range` header, so anything else is answered with the whole file.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: send `200` with the whole body.
    Full,
    /// Send `206` with these bytes (`end_inclusive` is below the size).
    Partial { start: u64, end_inclusive: u64 },
    /// Send `416` with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Interprets a `Range` header against a body of `size` bytes: `bytes=a-b`, `bytes=a-`
/// and `bytes=-n` (the last n bytes). Malformed headers and multi-range requests are
/// ignored (`Full`).
pub fn parse(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(strip_unit) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // A suffix: the last n bytes, or the whole body if it is shorter.
        return match number(last) {
            None => RangeRequest::Full,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial {
                start: size.saturating_sub(n),
                end_inclusive: size - 1,
            },
        };
    }
    let Some(start) = number(first) else {
        return RangeRequest::Full;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match number(last) {
            Some(end) if end >= start => end,
            // `last < first` makes the whole header invalid, hence ignorable.
            _ => return RangeRequest::Full,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial {
        start,
        end_inclusive: end.min(size - 1),
    }
}

/// The range set after `bytes=` (the unit is case-insensitive).
fn strip_unit(header: &str) -> Option<&str> {
    let header = header.trim();
    let (unit, spec) = header.split_once('=')?;
    unit.trim()
        .eq_ignore_ascii_case("bytes")
        .then_some(spec.trim())
}

/// A non-empty run of digits, saturating at `u64::MAX` (such a position is past any
/// body anyway).
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::*;

    fn partial(start: u64, end_inclusive: u64) -> RangeRequest {
        Partial {
            start,
            end_inclusive,
        }
    }

    #[test]
    fn closed_and_open_ranges() {
        assert_eq!(parse(Some("bytes=0-499"), 1000), partial(0, 499));
        assert_eq!(parse(Some("bytes=500-999"), 1000), partial(500, 999));
        assert_eq!(parse(Some("bytes=500-"), 1000), partial(500, 999));
        assert_eq!(parse(Some("bytes=0-0"), 1000), partial(0, 0));
        assert_eq!(parse(Some("bytes=999-999"), 1000), partial(999, 999));
        assert_eq!(parse(Some("Bytes = 1-2 "), 1000), partial(1, 2));
    }

    #[test]
    fn the_end_is_clamped_to_the_size() {
        assert_eq!(parse(Some("bytes=0-1000"), 1000), partial(0, 999));
        assert_eq!(
            parse(Some("bytes=10-99999999999999999999999"), 1000),
            partial(10, 999)
        );
    }

    #[test]
    fn suffix_ranges_take_the_tail() {
        assert_eq!(parse(Some("bytes=-500"), 1000), partial(500, 999));
        assert_eq!(parse(Some("bytes=-1"), 1000), partial(999, 999));
        assert_eq!(parse(Some("bytes=-5000"), 1000), partial(0, 999));
        assert_eq!(parse(Some("bytes=-0"), 1000), Unsatisfiable);
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        assert_eq!(parse(Some("bytes=1000-"), 1000), Unsatisfiable);
        assert_eq!(parse(Some("bytes=1000-2000"), 1000), Unsatisfiable);
        assert_eq!(
            parse(Some("bytes=99999999999999999999999-"), 1000),
            Unsatisfiable
        );
        for range in ["bytes=0-", "bytes=0-0", "bytes=-1", "bytes=-0"] {
            assert_eq!(parse(Some(range), 0), Unsatisfiable, "{range}");
        }
    }

    #[test]
    fn malformed_and_multiple_ranges_are_ignored() {
        assert_eq!(parse(None, 1000), Full);
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5",
            "bytes=5-4",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=0-1,5-6",
            "bytes=0-1, -5",
            "items=0-1",
            "bytes=0x10-",
        ] {
            assert_eq!(parse(Some(header), 1000), Full, "{header:?}");
        }
    }
}
