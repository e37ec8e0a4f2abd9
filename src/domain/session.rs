//! How long a session lives: a sliding idle window renewed by each refresh, inside an
//! absolute cap counted from sign-in (ASVS 7.3.1 and 7.3.2).

use super::clock::DAY;

pub const IDLE_WINDOW_MS: i64 = 90 * DAY;
pub const ABSOLUTE_CAP_MS: i64 = 365 * DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub created_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
}

impl Lifetime {
    pub fn start(now: i64) -> Self {
        Self {
            created_at: now,
            idle_expires_at: now + IDLE_WINDOW_MS,
            absolute_expires_at: now + ABSOLUTE_CAP_MS,
        }
    }

    pub fn is_alive(&self, now: i64) -> bool {
        now < self.idle_expires_at && now < self.absolute_expires_at
    }

    /// The lifetime after a refresh at `now`: the idle window slides, the cap does not.
    pub fn renewed(self, now: i64) -> Self {
        Self {
            idle_expires_at: (now + IDLE_WINDOW_MS).min(self.absolute_expires_at),
            ..self
        }
    }

    /// Seconds until the session ends if nothing renews it: the refresh cookie's `Max-Age`.
    pub fn remaining_secs(&self, now: i64) -> i64 {
        ((self.idle_expires_at.min(self.absolute_expires_at) - now) / 1000).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_session_lives_ninety_days_without_refresh() {
        let life = Lifetime::start(0);
        assert!(life.is_alive(89 * DAY));
        assert!(!life.is_alive(90 * DAY));
        assert_eq!(life.remaining_secs(0), 90 * 24 * 3600);
    }

    #[test]
    fn refreshing_slides_the_idle_window() {
        let life = Lifetime::start(0).renewed(80 * DAY);
        assert!(life.is_alive(169 * DAY));
        assert!(!life.is_alive(170 * DAY));
    }

    #[test]
    fn no_refresh_extends_past_the_absolute_cap() {
        let mut life = Lifetime::start(0);
        for day in (30..=360).step_by(30) {
            life = life.renewed(day * DAY);
        }
        assert_eq!(life.idle_expires_at, 365 * DAY);
        assert!(life.is_alive(364 * DAY));
        assert!(!life.is_alive(365 * DAY));
        assert_eq!(life.renewed(364 * DAY).remaining_secs(364 * DAY), 24 * 3600);
    }
}
