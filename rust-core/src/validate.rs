//! Input rules shared by every backend.
//!
//! Keys and service names are checked here, before any I/O, so that no backend ever sees
//! a name that could escape its directory or collide with another name after case folding.

use crate::error::{Result, StoreError};

/// The default maximum value size in UTF-8 bytes of the plaintext, the limit documented by
/// expo-secure-store SDK 54.
pub const DEFAULT_MAX_VALUE_BYTES: u64 = 2048;

/// The largest value size a store can be configured for. Entries are meant for secrets,
/// not documents, and every platform backend must be able to hold this much.
pub const MAX_CONFIGURABLE_VALUE_BYTES: u64 = 1 << 20;

/// The maximum key length in bytes.
pub const MAX_KEY_BYTES: usize = 255;

/// The maximum service name length in bytes.
pub const MAX_SERVICE_BYTES: usize = 255;

/// The service used when the caller names none. It is specific to this library, so the
/// store never returns entries that other code wrote under a generic name.
pub const DEFAULT_SERVICE: &str = "dev.securestore.default";

/// Checks that `key` is non-empty, at most [`MAX_KEY_BYTES`] long and made only of
/// `A-Z a-z 0-9 . - _`.
pub fn validate_key(key: &str) -> Result<()> {
    let invalid = |reason: String| Err(StoreError::InvalidKey { key: key.to_owned(), reason });
    if key.is_empty() {
        return invalid("a key must not be empty".to_owned());
    }
    if key.len() > MAX_KEY_BYTES {
        return invalid(format!("a key is at most {MAX_KEY_BYTES} bytes, this one is {}", key.len()));
    }
    if let Some(bad) = key.chars().find(|c| !is_key_char(*c)) {
        return invalid(format!(
            "character {bad:?} is not allowed; use only A-Z a-z 0-9 . - _"
        ));
    }
    Ok(())
}

/// The longest rejected name kept whole in an error message.
const MAX_NAME_IN_ERROR: usize = 64;

/// Cuts a rejected name for an error message, so a secret passed as a key by mistake is not
/// logged whole. The error's field keeps the whole name for the caller.
pub(crate) fn shortened(name: &str) -> String {
    match name.char_indices().nth(MAX_NAME_IN_ERROR) {
        Some((end, _)) => format!("{}... ({} bytes)", &name[..end], name.len()),
        None => name.to_owned(),
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Checks that a service name is non-empty, at most [`MAX_SERVICE_BYTES`] long and free of
/// NUL characters. Any other text is allowed because backends never use it as a path.
pub fn validate_service(service: &str) -> Result<()> {
    let invalid =
        |reason: String| Err(StoreError::InvalidService { service: service.to_owned(), reason });
    if service.is_empty() {
        return invalid("a service name must not be empty".to_owned());
    }
    if service.len() > MAX_SERVICE_BYTES {
        return invalid(format!(
            "a service name is at most {MAX_SERVICE_BYTES} bytes, this one is {}",
            service.len()
        ));
    }
    if service.contains('\0') {
        return invalid("a service name must not contain U+0000".to_owned());
    }
    Ok(())
}

/// Checks a value's size in bytes against `limit`.
pub fn validate_value_size(size: usize, limit: u64) -> Result<()> {
    let size = size as u64;
    if size > limit {
        return Err(StoreError::ValueTooLarge { size, limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_allowed_characters() {
        for key in ["a", "Z", "0", "token", "user.refresh-token_v2", "...", "-_-"] {
            assert_eq!(validate_key(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn rejects_empty_key() {
        let err = validate_key("").unwrap_err();
        assert!(matches!(err, StoreError::InvalidKey { ref key, .. } if key.is_empty()));
    }

    #[test]
    fn rejects_separators_and_unicode() {
        for key in ["a/b", "..\\x", "a b", "tök", "a\0b", "key:1", "😀", "a\n"] {
            let err = validate_key(key).unwrap_err();
            match err {
                StoreError::InvalidKey { key: named, reason } => {
                    assert_eq!(named, key);
                    assert!(reason.contains("A-Z a-z 0-9 . - _"), "{reason}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_overlong_key() {
        let key = "k".repeat(MAX_KEY_BYTES + 1);
        let err = validate_key(&key).unwrap_err();
        assert!(matches!(err, StoreError::InvalidKey { key: ref named, .. } if *named == key));
        let message = err.to_string();
        assert!(message.len() < 200, "the message repeats the whole key: {message}");
        assert!(message.contains("(256 bytes)"), "{message}");
        assert_eq!(validate_key(&"k".repeat(MAX_KEY_BYTES)), Ok(()));
    }

    #[test]
    fn value_limit_is_inclusive() {
        assert_eq!(validate_value_size(2048, 2048), Ok(()));
        assert_eq!(
            validate_value_size(2049, 2048),
            Err(StoreError::ValueTooLarge { size: 2049, limit: 2048 })
        );
    }

    #[test]
    fn service_rules() {
        assert_eq!(validate_service(DEFAULT_SERVICE), Ok(()));
        assert_eq!(validate_service("any text / with .. separators"), Ok(()));
        assert!(validate_service("").is_err());
        assert!(validate_service("a\0b").is_err());
        assert!(validate_service(&"s".repeat(MAX_SERVICE_BYTES + 1)).is_err());
    }
}
