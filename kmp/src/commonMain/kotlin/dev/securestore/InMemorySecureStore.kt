package dev.securestore

import dev.securestore.internal.isWellFormed
import kotlinx.atomicfu.locks.SynchronizedObject
import kotlinx.atomicfu.locks.synchronized

/**
 * A [SecureStore] that keeps entries in memory, for tests of app code. It applies the same
 * key, service and size rules as the platform stores and passes the same contract suite,
 * but stores nothing durably and protects nothing: never use it in production. It accepts
 * [SecureStoreOptions.requireAuthentication] without prompting, so app code paths that use
 * it can be tested.
 */
public class InMemorySecureStore(config: SecureStoreConfig = SecureStoreConfig()) : SecureStore {
    override val maxValueBytes: Int = checkMaxValueBytes(config.maxValueBytes)

    private val lock = SynchronizedObject()
    private val entries = HashMap<Pair<String, String>, ByteArray>()

    override fun getBytesBlocking(key: String, options: SecureStoreOptions): ByteArray? {
        val id = entryId(key, options)
        return synchronized(lock) { entries[id]?.copyOf() }
    }

    override fun setBytesBlocking(key: String, value: ByteArray, options: SecureStoreOptions) {
        val id = entryId(key, options)
        if (value.size > maxValueBytes) {
            throw SecureStoreException.ValueTooLarge(value.size.toLong(), maxValueBytes.toLong())
        }
        synchronized(lock) { entries[id] = value.copyOf() }
    }

    override fun deleteItemBlocking(key: String, options: SecureStoreOptions) {
        val id = entryId(key, options)
        synchronized(lock) { entries.remove(id) }
    }

    override fun listKeysBlocking(options: SecureStoreOptions): KeyListing {
        val service = checkService(options.service)
        val keys = synchronized(lock) { entries.keys.filter { it.first == service }.map { it.second } }
        return KeyListing(keys.sorted())
    }

    override fun deleteServiceBlocking(options: SecureStoreOptions) {
        val service = checkService(options.service)
        synchronized(lock) { entries.keys.removeAll { it.first == service } }
    }

    override fun protectionLevel(options: SecureStoreOptions): ProtectionLevel {
        checkService(options.service)
        return ProtectionLevel.SOFTWARE
    }

    override fun isAvailableBlocking(): Boolean = true

    override fun canUseBiometricAuthentication(): Boolean = false

    private fun entryId(key: String, options: SecureStoreOptions): Pair<String, String> {
        checkKey(key)
        return checkService(options.service) to key
    }
}

private const val MAX_KEY_BYTES = 255
private const val MAX_SERVICE_BYTES = 255
private const val MAX_CONFIGURABLE_VALUE_BYTES = 1 shl 20

private fun checkKey(key: String) {
    if (key.isEmpty()) throw SecureStoreException.InvalidKey(key, "a key must not be empty")
    if (key.length > MAX_KEY_BYTES) {
        throw SecureStoreException.InvalidKey(key, "a key is at most $MAX_KEY_BYTES bytes, this one is ${key.length}")
    }
    val bad = key.firstOrNull { !(it in 'a'..'z' || it in 'A'..'Z' || it in '0'..'9' || it == '.' || it == '-' || it == '_') }
    if (bad != null) {
        throw SecureStoreException.InvalidKey(key, "character ${quoted(bad.toString())} is not allowed; use only A-Z a-z 0-9 . - _")
    }
}

private fun checkService(service: String): String {
    if (service.isEmpty()) throw SecureStoreException.InvalidService(service, "a service name must not be empty")
    val size = service.encodeToByteArray().size
    if (size > MAX_SERVICE_BYTES) {
        throw SecureStoreException.InvalidService(service, "a service name is at most $MAX_SERVICE_BYTES bytes, this one is $size")
    }
    if ('\u0000' in service) throw SecureStoreException.InvalidService(service, "a service name must not contain U+0000")
    if (!service.isWellFormed()) throw SecureStoreException.InvalidService(service, "a service name must be valid Unicode text")
    return service
}

internal fun checkMaxValueBytes(maxValueBytes: Int): Int {
    if (maxValueBytes !in 1..MAX_CONFIGURABLE_VALUE_BYTES) {
        throw SecureStoreException.Configuration(
            "maxValueBytes is $maxValueBytes; choose a value from 1 to $MAX_CONFIGURABLE_VALUE_BYTES",
        )
    }
    return maxValueBytes
}
