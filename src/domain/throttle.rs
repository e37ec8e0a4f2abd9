//! Backoff for failed sign-ins: some free failures, then a doubling wait with a
//! ceiling, forgotten after a quiet hour — never a permanent lockout (ASVS 6.1.1).

use super::clock::{HOUR, MINUTE, SECOND};

/// How strict one counter is.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free_failures: u32,
    pub max_wait_ms: i64,
    pub forget_after_ms: i64,
}

/// Per account (the login as typed, case-folded): few free tries.
pub const PER_ACCOUNT: Policy = Policy {
    free_failures: 5,
    max_wait_ms: 15 * MINUTE,
    forget_after_ms: HOUR,
};
/// Per client IP: room for a household or office behind one address.
pub const PER_IP: Policy = Policy {
    free_failures: 30,
    max_wait_ms: 15 * MINUTE,
    forget_after_ms: HOUR,
};

/// A counter as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    pub last_failure_at: i64,
    pub blocked_until: i64,
}

impl Policy {
    /// Milliseconds the caller must still wait before trying again, if any.
    pub fn wait_ms(&self, counter: &Counter, now: i64) -> Option<i64> {
        (counter.blocked_until > now).then(|| counter.blocked_until - now)
    }

    /// The counter after one more failure at `now`.
    pub fn record_failure(&self, counter: Counter, now: i64) -> Counter {
        let failures = if now - counter.last_failure_at >= self.forget_after_ms {
            1
        } else {
            counter.failures.saturating_add(1)
        };
        let over = failures.saturating_sub(self.free_failures);
        let blocked_until = if over == 0 {
            0
        } else {
            // 1 s, 2 s, 4 s … capped; the exponent is clamped so the shift cannot overflow.
            let wait = (SECOND << (over - 1).min(20)).min(self.max_wait_ms);
            now + wait
        };
        Counter {
            failures,
            last_failure_at: now,
            blocked_until,
        }
    }
}

/// `Retry-After` in whole seconds, rounded up so a client never retries too early.
pub fn retry_after_secs(wait_ms: i64) -> i64 {
    (wait_ms + 999) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_times(policy: &Policy, n: u32, start: i64, step: i64) -> Counter {
        (0..n).fold(Counter::default(), |c, i| {
            policy.record_failure(c, start + i as i64 * step)
        })
    }

    #[test]
    fn free_failures_do_not_block() {
        let c = fail_times(&PER_ACCOUNT, 5, HOUR, 10);
        assert_eq!(c.failures, 5);
        assert_eq!(PER_ACCOUNT.wait_ms(&c, HOUR + 50), None);
    }

    #[test]
    fn each_failure_past_the_free_ones_doubles_the_wait() {
        let now = 10 * HOUR;
        let c = fail_times(&PER_ACCOUNT, 6, now, 0);
        assert_eq!(PER_ACCOUNT.wait_ms(&c, now), Some(SECOND));
        let c = PER_ACCOUNT.record_failure(c, now);
        assert_eq!(PER_ACCOUNT.wait_ms(&c, now), Some(2 * SECOND));
        let c = PER_ACCOUNT.record_failure(c, now);
        assert_eq!(PER_ACCOUNT.wait_ms(&c, now), Some(4 * SECOND));
    }

    #[test]
    fn the_wait_is_capped_and_ends() {
        let now = 10 * HOUR;
        let c = fail_times(&PER_ACCOUNT, 500, now, 0);
        assert_eq!(PER_ACCOUNT.wait_ms(&c, now), Some(15 * MINUTE));
        assert_eq!(PER_ACCOUNT.wait_ms(&c, now + 15 * MINUTE), None);
    }

    #[test]
    fn a_quiet_hour_forgets_the_failures() {
        let c = fail_times(&PER_ACCOUNT, 8, HOUR, 0);
        let c = PER_ACCOUNT.record_failure(c, 2 * HOUR + 1);
        assert_eq!(c.failures, 1);
        assert_eq!(PER_ACCOUNT.wait_ms(&c, 2 * HOUR + 1), None);
    }

    #[test]
    fn the_ip_policy_allows_more_failures() {
        let c = fail_times(&PER_IP, 30, HOUR, 0);
        assert_eq!(PER_IP.wait_ms(&c, HOUR), None);
        let c = PER_IP.record_failure(c, HOUR);
        assert_eq!(PER_IP.wait_ms(&c, HOUR), Some(SECOND));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
    }
}
