package dev.securestore.internal

import dev.securestore.KeyListing
import dev.securestore.ProtectionLevel
import dev.securestore.SecureStore
import dev.securestore.SecureStoreException
import dev.securestore.SecureStoreOptions
import uniffi.securestore.Accessibility
import uniffi.securestore.EntryOptions
import uniffi.securestore.Protection
import uniffi.securestore.SecureStoreCore
import uniffi.securestore.StoreException

/**
 * A [SecureStore] over the Rust core, shared by every platform. The core validates
 * every input, encrypts, and writes durably; this class only converts types and errors.
 * [entries] makes the calls on single entries; platforms with a faster path into the core
 * than the generated bindings pass their own.
 */
internal class CoreSecureStore(
    private val core: SecureStoreCore,
    private val biometrics: () -> Boolean,
    private val entries: EntryCalls = BindingEntryCalls(core),
) : SecureStore {
    override val maxValueBytes: Int = core.maxValueBytes().toInt()

    override fun getBytesBlocking(key: String, options: SecureStoreOptions): ByteArray? =
        entries.get(checkedKey(key), options.checkedText())

    override fun setBytesBlocking(key: String, value: ByteArray, options: SecureStoreOptions): Unit =
        entries.set(checkedKey(key), value, options.checkedText())

    override fun deleteItemBlocking(key: String, options: SecureStoreOptions): Unit =
        entries.delete(checkedKey(key), options.checkedText())

    override fun listKeysBlocking(options: SecureStoreOptions): KeyListing =
        translate {
            val listing = core.listKeys(options.toCore())
            KeyListing(listing.keys, listing.unreadableEntries.toInt(), listing.rootKeyLost)
        }

    override fun deleteServiceBlocking(options: SecureStoreOptions): Unit =
        translate { core.deleteService(options.toCore()) }

    override fun protectionLevel(options: SecureStoreOptions): ProtectionLevel =
        when (translate { core.protection(options.toCore()) }) {
            Protection.SOFTWARE -> ProtectionLevel.SOFTWARE
            Protection.OS_CREDENTIAL_STORE -> ProtectionLevel.OS_CREDENTIAL_STORE
            Protection.TRUSTED_ENVIRONMENT -> ProtectionLevel.TRUSTED_ENVIRONMENT
            Protection.STRONG_BOX -> ProtectionLevel.STRONG_BOX
            Protection.SECURE_ENCLAVE -> ProtectionLevel.SECURE_ENCLAVE
        }

    override fun isAvailableBlocking(): Boolean = core.isAvailable()

    override fun canUseBiometricAuthentication(): Boolean = biometrics()
}

/**
 * The calls on a single entry, made with a key and options that passed [checkedKey] and
 * [checkedText]. Failures are thrown as [SecureStoreException].
 */
internal interface EntryCalls {
    fun get(key: String, options: SecureStoreOptions): ByteArray?

    fun set(key: String, value: ByteArray, options: SecureStoreOptions)

    fun delete(key: String, options: SecureStoreOptions)
}

/** [EntryCalls] through the generated bindings, available on every platform. */
internal class BindingEntryCalls(private val core: SecureStoreCore) : EntryCalls {
    override fun get(key: String, options: SecureStoreOptions): ByteArray? = translate { core.get(key, options.toCore()) }

    override fun set(key: String, value: ByteArray, options: SecureStoreOptions): Unit =
        translate { core.set(key, value, options.toCore()) }

    override fun delete(key: String, options: SecureStoreOptions): Unit = translate { core.delete(key, options.toCore()) }
}

internal fun SecureStoreOptions.toCore(): EntryOptions {
    checkedText()
    return EntryOptions(
        keychainService = service,
        keychainAccessible = Accessibility.valueOf(keychainAccessible.name),
        requireAuthentication = requireAuthentication,
        authenticationPrompt = authenticationPrompt,
        accessGroup = accessGroup,
    )
}

/** Checks that every text option can cross into the core, and returns the options. */
internal fun SecureStoreOptions.checkedText(): SecureStoreOptions {
    // The core receives strings as UTF-8 and would fail on an unpaired surrogate with an
    // error that names no argument, so each one is checked here first.
    if (!service.isWellFormed()) throw SecureStoreException.InvalidService(service, "a service name must be valid Unicode text")
    if (authenticationPrompt?.isWellFormed() == false) {
        throw SecureStoreException.InvalidValue("authenticationPrompt is not valid Unicode text: it contains an unpaired surrogate")
    }
    if (accessGroup?.isWellFormed() == false) {
        throw SecureStoreException.InvalidValue("accessGroup is not valid Unicode text: it contains an unpaired surrogate")
    }
    return this
}

/** Checks that [key] can cross into the core, where it is validated in full. */
internal fun checkedKey(key: String): String {
    if (!key.isWellFormed()) throw SecureStoreException.InvalidKey(key, "use only A-Z a-z 0-9 . - _")
    return key
}

internal fun String.isWellFormed(): Boolean {
    var index = 0
    while (index < length) {
        val char = this[index]
        if (char.isHighSurrogate() && index + 1 < length && this[index + 1].isLowSurrogate()) {
            index += 2
            continue
        }
        if (char.isSurrogate()) return false
        index++
    }
    return true
}

/** Runs [block], converting the core's errors into the public exception hierarchy. */
internal inline fun <T> translate(block: () -> T): T =
    try {
        block()
    } catch (e: StoreException) {
        throw e.toPublic()
    }

internal fun StoreException.toPublic(): SecureStoreException =
    when (this) {
        is StoreException.InvalidKey -> SecureStoreException.InvalidKey(key, reason)
        is StoreException.InvalidService -> SecureStoreException.InvalidService(service, reason)
        is StoreException.ValueTooLarge -> SecureStoreException.ValueTooLarge(size.toLong(), limit.toLong())
        is StoreException.UnsupportedOption -> SecureStoreException.UnsupportedOption(option, reason)
        is StoreException.AuthenticationCancelled -> SecureStoreException.AuthenticationCancelled()
        is StoreException.AuthenticationFailed -> SecureStoreException.AuthenticationFailed(reason)
        is StoreException.DeviceLocked -> SecureStoreException.DeviceLocked()
        is StoreException.IntegrityFailure -> SecureStoreException.IntegrityFailure(service, key, reason)
        is StoreException.StorageFailure -> SecureStoreException.StorageFailure(operation, detail)
        is StoreException.KeyStoreUnavailable -> SecureStoreException.KeyStoreUnavailable(detail)
        is StoreException.Configuration -> SecureStoreException.Configuration(detail)
    }
