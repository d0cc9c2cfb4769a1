package dev.securestore.internal

import dev.securestore.SecureStoreException
import dev.securestore.SecureStoreOptions

/**
 * The core's direct JNI entry points for `get`, `set` and `delete`. One JNI call replaces
 * the several JNA calls the generated bindings make for each operation.
 *
 * [keepAlive] is the bindings' object that owns the store registered under `handle`. Passing
 * it keeps that object reachable, and so the handle valid, until the native call returns.
 */
internal object NativeStoreCalls {
    @JvmStatic
    external fun nativeGet(
        handle: Long,
        keepAlive: Any,
        key: String,
        service: String,
        accessible: Int,
        requireAuthentication: Boolean,
        prompt: String?,
        accessGroup: String?,
    ): ByteArray?

    @JvmStatic
    external fun nativeSet(
        handle: Long,
        keepAlive: Any,
        key: String,
        value: ByteArray,
        service: String,
        accessible: Int,
        requireAuthentication: Boolean,
        prompt: String?,
        accessGroup: String?,
    )

    @JvmStatic
    external fun nativeDelete(
        handle: Long,
        keepAlive: Any,
        key: String,
        service: String,
        accessible: Int,
        requireAuthentication: Boolean,
        prompt: String?,
        accessGroup: String?,
    )
}

/** [EntryCalls] through [NativeStoreCalls], for a store the core registered under [handle]. */
internal class NativeEntryCalls(private val handle: Long, private val owner: Any) : EntryCalls {
    init {
        require(handle != 0L) { "the store has no handle for direct calls" }
    }

    override fun get(key: String, options: SecureStoreOptions): ByteArray? =
        translateNative {
            NativeStoreCalls.nativeGet(
                handle, owner, key,
                options.service, options.keychainAccessible.code, options.requireAuthentication,
                options.authenticationPrompt, options.accessGroup,
            )
        }

    override fun set(key: String, value: ByteArray, options: SecureStoreOptions): Unit =
        translateNative {
            NativeStoreCalls.nativeSet(
                handle, owner, key, value,
                options.service, options.keychainAccessible.code, options.requireAuthentication,
                options.authenticationPrompt, options.accessGroup,
            )
        }

    override fun delete(key: String, options: SecureStoreOptions): Unit =
        translateNative {
            NativeStoreCalls.nativeDelete(
                handle, owner, key,
                options.service, options.keychainAccessible.code, options.requireAuthentication,
                options.authenticationPrompt, options.accessGroup,
            )
        }
}

/**
 * A failure of a direct call, thrown by the core. [kind] names the error, and the other
 * fields carry its details in the order of the core's error variant. It never leaves this
 * module: [toPublic] turns it into the public exception of the same name.
 */
internal class NativeStoreException(
    val kind: Int,
    val first: String?,
    val second: String?,
    val third: String?,
    val size: Long,
    val limit: Long,
) : RuntimeException("SecureStore core error of kind $kind") {
    fun toPublic(): SecureStoreException =
        when (kind) {
            INVALID_KEY -> SecureStoreException.InvalidKey(first.orEmpty(), second.orEmpty())
            INVALID_SERVICE -> SecureStoreException.InvalidService(first.orEmpty(), second.orEmpty())
            VALUE_TOO_LARGE -> SecureStoreException.ValueTooLarge(size, limit)
            UNSUPPORTED_OPTION -> SecureStoreException.UnsupportedOption(first.orEmpty(), second.orEmpty())
            AUTHENTICATION_CANCELLED -> SecureStoreException.AuthenticationCancelled()
            AUTHENTICATION_FAILED -> SecureStoreException.AuthenticationFailed(first.orEmpty())
            DEVICE_LOCKED -> SecureStoreException.DeviceLocked()
            INTEGRITY_FAILURE -> SecureStoreException.IntegrityFailure(first.orEmpty(), second.orEmpty(), third.orEmpty())
            STORAGE_FAILURE -> SecureStoreException.StorageFailure(first.orEmpty(), second.orEmpty())
            KEY_STORE_UNAVAILABLE -> SecureStoreException.KeyStoreUnavailable(first.orEmpty())
            CONFIGURATION -> SecureStoreException.Configuration(first.orEmpty())
            else -> throw IllegalStateException("the native library reported error kind $kind, which this version does not know")
        }

    companion object {
        const val INVALID_KEY: Int = 1
        const val INVALID_SERVICE: Int = 2
        const val VALUE_TOO_LARGE: Int = 3
        const val UNSUPPORTED_OPTION: Int = 4
        const val AUTHENTICATION_CANCELLED: Int = 5
        const val AUTHENTICATION_FAILED: Int = 6
        const val DEVICE_LOCKED: Int = 7
        const val INTEGRITY_FAILURE: Int = 8
        const val STORAGE_FAILURE: Int = 9
        const val KEY_STORE_UNAVAILABLE: Int = 10
        const val CONFIGURATION: Int = 11
    }
}

private inline fun <T> translateNative(block: () -> T): T =
    try {
        block()
    } catch (e: NativeStoreException) {
        throw e.toPublic()
    }
