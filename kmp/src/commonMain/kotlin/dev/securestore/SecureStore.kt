package dev.securestore

import kotlinx.coroutines.withContext

/**
 * Encrypted storage for small secrets such as tokens, passwords and keys.
 *
 * An entry is identified by `(options.keychainService, key)`. Keys are non-empty, use only
 * `A-Z a-z 0-9 . - _` and are case-sensitive. Values are any text or bytes up to
 * [maxValueBytes] (UTF-8 bytes for text). Every failure throws a [SecureStoreException];
 * `null` from a read means the entry is absent, or its key material was permanently lost
 * (a backup restored without its key, a new biometric enrolment).
 *
 * Suspend functions run on a background dispatcher and never block the caller's thread.
 * The `...Blocking` variants run on the calling thread, for code that cannot suspend.
 */
public interface SecureStore {
    /** The maximum size of a value in bytes; text is measured in UTF-8 bytes. */
    public val maxValueBytes: Int

    /** Reads the text stored under [key], or `null` if there is none. */
    public fun getItemBlocking(key: String, options: SecureStoreOptions = SecureStoreOptions()): String? =
        getBytesBlocking(key, options)?.let { decodeText(key, it) }

    /** Stores [value] under [key], replacing any previous value atomically and durably. */
    public fun setItemBlocking(key: String, value: String, options: SecureStoreOptions = SecureStoreOptions()): Unit =
        setBytesBlocking(key, encodeText(value), options)

    /** Reads the bytes stored under [key], or `null` if there is none. */
    public fun getBytesBlocking(key: String, options: SecureStoreOptions = SecureStoreOptions()): ByteArray?

    /** Stores [value] under [key], replacing any previous value atomically and durably. */
    public fun setBytesBlocking(key: String, value: ByteArray, options: SecureStoreOptions = SecureStoreOptions())

    /** Deletes the entry under [key]; deleting a missing entry succeeds. */
    public fun deleteItemBlocking(key: String, options: SecureStoreOptions = SecureStoreOptions())

    /** Lists the keys of the options' service, and the entries that could not be read. */
    public fun listKeysBlocking(options: SecureStoreOptions = SecureStoreOptions()): KeyListing

    /** Deletes every entry of the options' service and its key material. */
    public fun deleteServiceBlocking(options: SecureStoreOptions = SecureStoreOptions())

    /** Reports the protection that entries written with [options] get on this device. */
    public fun protectionLevel(options: SecureStoreOptions = SecureStoreOptions()): ProtectionLevel

    /** Returns whether this store can store and read entries on this device. */
    public fun isAvailableBlocking(): Boolean

    /**
     * Returns whether strong biometric authentication is enrolled, so that
     * [SecureStoreOptions.requireAuthentication] can be used.
     */
    public fun canUseBiometricAuthentication(): Boolean

    /** Reads the text stored under [key], or `null` if there is none. */
    public suspend fun getItem(key: String, options: SecureStoreOptions = SecureStoreOptions()): String? =
        withContext(storeDispatcher) { getItemBlocking(key, options) }

    /** Stores [value] under [key]; returns once the value is durable. */
    public suspend fun setItem(key: String, value: String, options: SecureStoreOptions = SecureStoreOptions()): Unit =
        withContext(storeDispatcher) { setItemBlocking(key, value, options) }

    /** Reads the bytes stored under [key], or `null` if there is none. */
    public suspend fun getBytes(key: String, options: SecureStoreOptions = SecureStoreOptions()): ByteArray? =
        withContext(storeDispatcher) { getBytesBlocking(key, options) }

    /** Stores [value] under [key]; returns once the value is durable. */
    public suspend fun setBytes(key: String, value: ByteArray, options: SecureStoreOptions = SecureStoreOptions()): Unit =
        withContext(storeDispatcher) { setBytesBlocking(key, value, options) }

    /** Deletes the entry under [key]; returns once the deletion is durable. */
    public suspend fun deleteItem(key: String, options: SecureStoreOptions = SecureStoreOptions()): Unit =
        withContext(storeDispatcher) { deleteItemBlocking(key, options) }

    /** Lists the keys of the options' service. */
    public suspend fun listKeys(options: SecureStoreOptions = SecureStoreOptions()): KeyListing =
        withContext(storeDispatcher) { listKeysBlocking(options) }

    /** Deletes every entry of the options' service and its key material. */
    public suspend fun deleteService(options: SecureStoreOptions = SecureStoreOptions()): Unit =
        withContext(storeDispatcher) { deleteServiceBlocking(options) }

    /** Returns whether this store can store and read entries on this device. */
    public suspend fun isAvailable(): Boolean = withContext(storeDispatcher) { isAvailableBlocking() }

    public companion object {
        /** The service used when [SecureStoreOptions.keychainService] is `null`. */
        public const val DEFAULT_SERVICE: String = "dev.securestore.default"

        /** The default maximum value size in bytes, the limit documented by expo-secure-store. */
        public const val DEFAULT_MAX_VALUE_BYTES: Int = 2048
    }
}

/**
 * Opens the platform's secure store: encrypted files under Android Keystore keys on
 * Android, the Keychain on iOS and tvOS, encrypted files under a local keystore on the
 * desktop JVM.
 */
public expect fun SecureStore(config: SecureStoreConfig = SecureStoreConfig()): SecureStore

/** Store-wide settings. */
public data class SecureStoreConfig(
    /** The maximum size of a value in bytes, from 1 to 1 MiB. */
    val maxValueBytes: Int = SecureStore.DEFAULT_MAX_VALUE_BYTES,
)

/** The keys of one service. */
public data class KeyListing(
    /** The keys whose entries can be read, sorted. */
    val keys: List<String>,
    /** The number of entries that could not be read: damaged, foreign, or under a lost key. */
    val unreadableEntries: Int = 0,
    /** Whether the service's key was permanently lost; the next write creates a new one. */
    val rootKeyLost: Boolean = false,
)

/** The protection actually in force for a store's keys, weakest first. */
public enum class ProtectionLevel {
    /** Keys in an ordinary file, protected by file permissions only. */
    SOFTWARE,

    /** The operating system's credential store (Keychain, Secret Service, Credential Manager). */
    OS_CREDENTIAL_STORE,

    /** A trusted execution environment, such as a TEE-backed Android Keystore. */
    TRUSTED_ENVIRONMENT,

    /** A separate secure element, such as Android StrongBox. */
    STRONG_BOX,

    /** Apple's Secure Enclave. */
    SECURE_ENCLAVE,
}

internal fun encodeText(value: String): ByteArray =
    try {
        value.encodeToByteArray(throwOnInvalidSequence = true)
    } catch (e: CharacterCodingException) {
        throw SecureStoreException.InvalidValue("value is not valid Unicode text: it contains an unpaired surrogate", e)
    }

internal fun decodeText(key: String, bytes: ByteArray): String {
    // The lenient decoder is the fast one on the JVM. It replaces each malformed sequence
    // with U+FFFD, so a result without U+FFFD comes from valid UTF-8. Only a result that
    // contains U+FFFD is decoded again, strictly, to tell a stored U+FFFD from bad bytes.
    val text = bytes.decodeToString()
    if (text.indexOf('\uFFFD') < 0) return text
    return try {
        bytes.decodeToString(throwOnInvalidSequence = true)
    } catch (e: CharacterCodingException) {
        throw SecureStoreException.InvalidValue("entry \"$key\" contains bytes that are not valid UTF-8 text; read it with getBytes", e)
    }
}
