//! Every mail the platform sends, worded in one place.

/// A mail's subject and plain-text body.
#[derive(Debug)]
pub struct Letter {
    pub subject: &'static str,
    pub text: String,
}

pub fn verify_email(username: &str, link: &str) -> Letter {
    Letter {
        subject: "Confirm your email",
        text: format!(
            "Hello {username},\n\nconfirm your email address for rooom:\n{link}\n\nThe link works once, for 24 hours."
        ),
    }
}

pub fn reset_password(username: &str, link: &str) -> Letter {
    Letter {
        subject: "Reset your password",
        text: format!(
            "Hello {username},\n\nchoose a new rooom password here:\n{link}\n\nThe link works once, for one hour. \
             If you did not ask for it, ignore this mail; your password stays as it is."
        ),
    }
}

pub fn sign_in_code(code: &str) -> Letter {
    Letter {
        subject: "Your sign-in code",
        text: format!(
            "Your rooom sign-in code is {code}\n\nIt works once, for 15 minutes. If you did not ask for it, ignore this mail."
        ),
    }
}

pub fn email_changed(old: &str, new: &str) -> Letter {
    Letter {
        subject: "Your email address was changed",
        text: format!(
            "Your rooom email address was changed from {old} to {new}.\nIf you did not do this, reset your password now."
        ),
    }
}

pub fn password_changed() -> Letter {
    Letter {
        subject: "Your password was changed",
        text: "Your rooom password was changed. If you did not do this, reset it now.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_codes_appear_in_the_text() {
        assert!(verify_email("alice", "https://app/verify-email?token=T")
            .text
            .contains("?token=T\n"));
        assert!(
            reset_password("alice", "https://app/reset-password?token=R")
                .text
                .contains("?token=R\n")
        );
        assert!(sign_in_code("042917")
            .text
            .starts_with("Your rooom sign-in code is 042917\n"));
        assert!(email_changed("a@x.org", "b@y.org")
            .text
            .contains("from a@x.org to b@y.org"));
    }
}
