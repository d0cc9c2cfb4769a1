package dev.securestore

/**
 * A failure of a [SecureStore] operation. Messages name the offending key, option or limit
 * and never contain a value.
 */
public sealed class SecureStoreException(message: String, cause: Throwable? = null) : Exception(message, cause) {
    /** The key is empty, too long, or contains a character outside `A-Z a-z 0-9 . - _`. */
    public class InvalidKey(public val key: String, public val reason: String) :
        SecureStoreException("invalid key ${quoted(key)}: $reason")

    /** The service name is empty, too long, or contains U+0000. */
    public class InvalidService(public val service: String, public val reason: String) :
        SecureStoreException("invalid keychainService ${quoted(service)}: $reason")

    /** The value is not valid text: it cannot be encoded to, or decoded from, UTF-8. */
    public class InvalidValue(public val reason: String, cause: Throwable? = null) :
        SecureStoreException("invalid value: $reason", cause)

    /** The value is larger than the limit; the stored value is unchanged. */
    public class ValueTooLarge(public val sizeBytes: Long, public val limitBytes: Long) :
        SecureStoreException("value is $sizeBytes bytes, over the limit of $limitBytes bytes; the stored value is unchanged")

    /** The platform cannot honour an option, so nothing was stored with weaker protection. */
    public class UnsupportedOption(public val option: String, public val reason: String) :
        SecureStoreException("unsupported option $option: $reason")

    /** The user dismissed the authentication prompt. */
    public class AuthenticationCancelled : SecureStoreException("authentication was cancelled by the user")

    /** Authentication failed, or biometrics are locked out after too many attempts. */
    public class AuthenticationFailed(public val reason: String) :
        SecureStoreException("authentication failed: $reason")

    /** The device is locked and the entry is not readable until the user unlocks it. */
    public class DeviceLocked : SecureStoreException("the device is locked; the entry is readable after the user unlocks it")

    /** A stored entry was modified, truncated or moved; it is left in place. */
    public class IntegrityFailure(public val service: String, public val key: String, public val reason: String) :
        SecureStoreException("entry ${quoted(key)} in service ${quoted(service)} failed its integrity check: $reason")

    /**
     * Reading or writing storage failed. The previous state is intact, except when only the
     * final directory sync failed: then the new state may be visible but not yet durable, so
     * read the entry again to learn which state it is in.
     */
    public class StorageFailure(public val operation: String, public val detail: String) :
        SecureStoreException("storage failed while trying to $operation: $detail")

    /** The platform key store is unavailable right now; nothing was deleted. */
    public class KeyStoreUnavailable(public val detail: String) :
        SecureStoreException("the platform key store is unavailable: $detail")

    /** The app or store is misconfigured. The message explains the fix. */
    public class Configuration(public val detail: String) : SecureStoreException("configuration error: $detail")
}

/** The maximum length of a name quoted whole in a message. Longer names are cut, so a secret passed as a key by mistake is not logged. */
private const val MAX_QUOTED_CHARS = 64

/**
 * Quotes [text] for a message. Control, line-separator and bidirectional-override characters
 * are escaped, so a name cannot split or reorder a log line, and a long name is cut.
 */
internal fun quoted(text: String): String =
    buildString {
        append('"')
        for (char in text.take(MAX_QUOTED_CHARS)) {
            when {
                char == '"' || char == '\\' -> append('\\').append(char)
                char == '\n' -> append("\\n")
                char == '\t' -> append("\\t")
                char == '\r' -> append("\\r")
                char < ' ' || char in '\u007f'..'\u009f' || char in '\u2028'..'\u202e' || char in '\u2066'..'\u2069' ||
                    char.isSurrogate() ->
                    append("\\u").append(char.code.toString(16).padStart(4, '0'))
                else -> append(char)
            }
        }
        append('"')
        if (text.length > MAX_QUOTED_CHARS) append(" (cut, ${text.length} characters)")
    }
