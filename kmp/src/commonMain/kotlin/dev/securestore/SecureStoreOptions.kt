package dev.securestore

/**
 * Options of one operation, named as in expo-secure-store.
 *
 * @property keychainService the service the entry belongs to; `null` means
 *   [SecureStore.DEFAULT_SERVICE]. Services never see each other's entries.
 * @property keychainAccessible when the entry may be read, on iOS and tvOS.
 * @property requireAuthentication bind the value to key material that needs user
 *   authentication. Platforms that cannot honour this throw
 *   [SecureStoreException.UnsupportedOption] instead of storing the value less protected.
 * @property authenticationPrompt the reason shown when the user is asked to authenticate.
 * @property accessGroup the Keychain access group, on iOS and tvOS.
 */
public data class SecureStoreOptions(
    val keychainService: String? = null,
    val keychainAccessible: KeychainAccessibility = KeychainAccessibility.AFTER_FIRST_UNLOCK,
    val requireAuthentication: Boolean = false,
    val authenticationPrompt: String? = null,
    val accessGroup: String? = null,
) {
    /** The service this operation uses. */
    val service: String get() = keychainService ?: SecureStore.DEFAULT_SERVICE
}

/**
 * When a Keychain item may be read. [code] is the numeric value of the matching
 * expo-secure-store SDK 54 constant, kept for interoperability.
 */
public enum class KeychainAccessibility(public val code: Int) {
    /** Readable after the first unlock until the device restarts; the default, so background work can read. */
    AFTER_FIRST_UNLOCK(0),

    /** As [AFTER_FIRST_UNLOCK], and never migrated to another device. */
    AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY(1),

    /** Always readable. Deprecated by Apple. */
    ALWAYS(2),

    /** Readable only while a passcode is set, never migrated; removed when the passcode is removed. */
    WHEN_PASSCODE_SET_THIS_DEVICE_ONLY(3),

    /** Always readable, never migrated. Deprecated by Apple. */
    ALWAYS_THIS_DEVICE_ONLY(4),

    /** Readable while the device is unlocked. */
    WHEN_UNLOCKED(5),

    /** Readable while the device is unlocked, never migrated. */
    WHEN_UNLOCKED_THIS_DEVICE_ONLY(6),
    ;

    public companion object {
        /** Returns the value with the expo-secure-store [code] 0 to 6. */
        public fun fromCode(code: Int): KeychainAccessibility =
            entries.firstOrNull { it.code == code }
                ?: throw IllegalArgumentException("keychainAccessible code $code is invalid; use 0 to 6")
    }
}
