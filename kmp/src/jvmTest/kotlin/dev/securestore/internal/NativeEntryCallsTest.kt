package dev.securestore.internal

import dev.securestore.KeychainAccessibility
import dev.securestore.SecureStore
import dev.securestore.SecureStoreException
import dev.securestore.SecureStoreOptions
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import kotlin.io.path.readBytes
import kotlin.io.path.writeBytes
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNull
import uniffi.securestore.SecureStoreCore

/**
 * The direct JNI calls against the generated bindings, over one core: both must read the
 * same entries and fail with the same exceptions.
 */
class NativeEntryCallsTest {
    private val directory: Path = Files.createTempDirectory("securestore-direct")
    private val keystore = SimulatedKeystore()
    private val core: SecureStoreCore = openCore()
    private val direct: SecureStore = CoreSecureStore(core, { false }, NativeEntryCalls(core.jniHandle().toLong(), core))
    private val binding: SecureStore = CoreSecureStore(core, { false })

    private fun openCore(): SecureStoreCore {
        NativeLibrary.ensureLoaded()
        val handle = NativeKeyProviders.nativeRegister(keystore)
        try {
            return translate { SecureStoreCore.openWithJniProvider(directory.toString(), handle.toULong(), 64uL) }
        } finally {
            NativeKeyProviders.nativeUnregister(handle)
        }
    }

    @AfterTest
    fun close() {
        core.destroy()
        directory.toFile().deleteRecursively()
    }

    @Test
    fun bothPathsReadWhatTheOtherWrote() {
        val options = SecureStoreOptions(keychainService = "app.tokens", keychainAccessible = KeychainAccessibility.WHEN_UNLOCKED)
        direct.setBytesBlocking("refresh", byteArrayOf(0, 1, -1, 127), options)
        assertContentEquals(byteArrayOf(0, 1, -1, 127), binding.getBytesBlocking("refresh", options))
        binding.setBytesBlocking("access", ByteArray(64) { it.toByte() }, options)
        assertContentEquals(ByteArray(64) { it.toByte() }, direct.getBytesBlocking("access", options))
        direct.setBytesBlocking("empty", ByteArray(0), options)
        assertContentEquals(ByteArray(0), binding.getBytesBlocking("empty", options))

        direct.deleteItemBlocking("refresh", options)
        assertNull(binding.getBytesBlocking("refresh", options))
        binding.deleteItemBlocking("access", options)
        assertNull(direct.getBytesBlocking("access", options))
        assertNull(direct.getBytesBlocking("never-written", options))
        assertEquals(listOf("empty"), direct.listKeysBlocking(options).keys)
    }

    @Test
    fun bothPathsFailAlike() {
        binding.setItemBlocking("stored", "kept")
        val failures: List<Pair<String, (SecureStore) -> Unit>> = listOf(
            "invalid key" to { store -> store.getItemBlocking("no spaces") },
            "long invalid key" to { store -> store.setItemBlocking("x".repeat(300) + "!", "v") },
            "empty key" to { store -> store.deleteItemBlocking("") },
            "empty service" to { store -> store.getItemBlocking("k", SecureStoreOptions(keychainService = "")) },
            "value too large" to { store -> store.setBytesBlocking("stored", ByteArray(65), SecureStoreOptions()) },
            "authentication without biometrics" to { store ->
                keystore.biometricsEnrolled = false
                store.setItemBlocking("k", "v", SecureStoreOptions(requireAuthentication = true))
            },
            "failing key store" to { store ->
                keystore.biometricsEnrolled = true
                keystore.keystoreFailure = KeyProviderException.UNAVAILABLE
                try {
                    store.setItemBlocking("other", "v", SecureStoreOptions(keychainService = "fresh.service"))
                } finally {
                    keystore.keystoreFailure = null
                }
            },
        )
        for ((name, operation) in failures) {
            val fromBinding = assertFailsWith<SecureStoreException>(name) { operation(binding) }
            val fromDirect = assertFailsWith<SecureStoreException>(name) { operation(direct) }
            assertEquals(fromBinding::class, fromDirect::class, name)
            assertEquals(fromBinding.message, fromDirect.message, name)
        }
        assertEquals("kept", direct.getItemBlocking("stored"))
    }

    @Test
    fun damagedEntryIsIntegrityFailureOnBothPaths() {
        direct.setItemBlocking("session", "secret-value")
        val serviceDirectory = directory.listDirectoryEntries("s-*").single()
        val entry = serviceDirectory.listDirectoryEntries("e-*").single()
        val bytes = entry.readBytes()
        bytes[bytes.size - 1] = (bytes[bytes.size - 1].toInt() xor 1).toByte()
        entry.writeBytes(bytes)

        val fromBinding = assertFailsWith<SecureStoreException.IntegrityFailure> { binding.getItemBlocking("session") }
        val fromDirect = assertFailsWith<SecureStoreException.IntegrityFailure> { direct.getItemBlocking("session") }
        assertEquals(fromBinding.message, fromDirect.message)
        assertEquals("session", fromDirect.key)
        assert(!fromDirect.message.orEmpty().contains("secret-value")) { entry.name }
    }

    @Test
    fun unknownHandleIsConfigurationError() {
        val closed = CoreSecureStore(core, { false }, NativeEntryCalls(Long.MAX_VALUE, core))
        val error = assertFailsWith<SecureStoreException.Configuration> { closed.getItemBlocking("k") }
        assertEquals("the store was closed before this call; open it again", error.detail)
    }

    @Test
    fun everyKindMapsToItsException() {
        fun map(kind: Int) = NativeStoreException(kind, "first", "second", "third", 5, 4).toPublic()
        assertEquals(SecureStoreException.InvalidKey("first", "second").message, map(NativeStoreException.INVALID_KEY).message)
        assertIs<SecureStoreException.InvalidService>(map(NativeStoreException.INVALID_SERVICE))
        val tooLarge = assertIs<SecureStoreException.ValueTooLarge>(map(NativeStoreException.VALUE_TOO_LARGE))
        assertEquals(5L to 4L, tooLarge.sizeBytes to tooLarge.limitBytes)
        assertIs<SecureStoreException.UnsupportedOption>(map(NativeStoreException.UNSUPPORTED_OPTION))
        assertIs<SecureStoreException.AuthenticationCancelled>(map(NativeStoreException.AUTHENTICATION_CANCELLED))
        assertEquals("first", assertIs<SecureStoreException.AuthenticationFailed>(map(NativeStoreException.AUTHENTICATION_FAILED)).reason)
        assertIs<SecureStoreException.DeviceLocked>(map(NativeStoreException.DEVICE_LOCKED))
        val integrity = assertIs<SecureStoreException.IntegrityFailure>(map(NativeStoreException.INTEGRITY_FAILURE))
        assertEquals(Triple("first", "second", "third"), Triple(integrity.service, integrity.key, integrity.reason))
        val storage = assertIs<SecureStoreException.StorageFailure>(map(NativeStoreException.STORAGE_FAILURE))
        assertEquals("first" to "second", storage.operation to storage.detail)
        assertEquals("first", assertIs<SecureStoreException.KeyStoreUnavailable>(map(NativeStoreException.KEY_STORE_UNAVAILABLE)).detail)
        assertEquals("first", assertIs<SecureStoreException.Configuration>(map(NativeStoreException.CONFIGURATION)).detail)
        assertFailsWith<IllegalStateException> { map(99) }
    }
}
