//! How long rows that only matter for a while are kept, before the hourly purge
//! removes them. Every cutoff is a unix-millisecond instant: older rows go.

use super::clock::{DAY, HOUR};
use super::throttle::{PER_ACCOUNT, PER_IP};

#[derive(Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// Failure counters quiet for longer than any policy remembers, and not blocking.
    pub throttle_quiet_since: i64,
    /// Hourly mail counts from a finished window.
    pub mail_window_before: i64,
    /// Mailed tokens expired or spent a day ago (kept a day to answer support questions).
    pub email_token_done_before: i64,
    /// Sessions past their idle window or absolute cap (their refresh tokens go along).
    pub session_expired_before: i64,
    /// Dev outbox mail older than a week.
    pub outbox_before: i64,
    /// Multipart media uploads started a week ago and never completed.
    pub upload_started_before: i64,
}

pub fn cutoffs(now: i64) -> Cutoffs {
    Cutoffs {
        throttle_quiet_since: now - PER_ACCOUNT.forget_after_ms.max(PER_IP.forget_after_ms),
        mail_window_before: now - HOUR,
        email_token_done_before: now - DAY,
        session_expired_before: now,
        outbox_before: now - 7 * DAY,
        upload_started_before: now - 7 * DAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_kept_as_long_as_the_throttle_remembers_them() {
        let now = 100 * DAY;
        let c = cutoffs(now);
        assert_eq!(c.throttle_quiet_since, now - HOUR);
        // A counter touched within the forget window must survive: it still counts.
        assert!(now - PER_ACCOUNT.forget_after_ms + 1 > c.throttle_quiet_since);
    }

    #[test]
    fn other_cutoffs_lie_in_the_past() {
        let now = 100 * DAY;
        let c = cutoffs(now);
        for cutoff in [
            c.mail_window_before,
            c.email_token_done_before,
            c.session_expired_before,
            c.outbox_before,
        ] {
            assert!(cutoff <= now);
        }
        assert_eq!(c.outbox_before, now - 7 * DAY);
        assert_eq!(c.upload_started_before, now - 7 * DAY);
    }
}
