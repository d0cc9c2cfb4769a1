package dev.securestore

import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.withContext
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.isRegularFile
import kotlin.io.path.readBytes
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The contract suite and JVM-specific behaviour, against the real Rust core. */
class JvmSecureStoreTest : SecureStoreContract() {
    private val directory: Path = Files.createTempDirectory("securestore-test")

    override fun createStore(config: SecureStoreConfig): SecureStore = JvmSecureStore.open(directory, config = config)

    @AfterTest
    fun removeDirectory() {
        directory.toFile().deleteRecursively()
    }

    @Test
    fun valuesPersistAcrossReopen() {
        store.setItemBlocking("token", "persisted")
        val reopened = JvmSecureStore.open(directory)
        assertEquals("persisted", reopened.getItemBlocking("token"))
    }

    @Test
    fun filesContainNoKeyNamesOrValues() {
        val key = "refresh_token_name"
        val value = "value-that-must-not-leak-42"
        store.setItemBlocking(key, value)
        store.setItemBlocking("other.key", value, SecureStoreOptions(keychainService = "svcA"))

        val files = Files.walk(directory).use { paths -> paths.filter { it.isRegularFile() }.toList() }
        assertTrue(files.size >= 3, "entries and keys were written: $files")
        for (file in files) {
            val bytes = file.readBytes()
            for (secret in listOf(key, value, "other.key")) {
                assertTrue(!bytes.containsSequence(secret.encodeToByteArray()), "$secret appears in $file")
                assertTrue(!file.toString().contains(secret), "$secret appears in the path $file")
            }
        }
    }

    @Test
    fun requireAuthenticationIsUnsupported() {
        store.setItemBlocking("k", "plain")
        val error = assertFailsWith<SecureStoreException.UnsupportedOption> {
            store.setItemBlocking("k", "secret", SecureStoreOptions(requireAuthentication = true))
        }
        assertEquals("requireAuthentication", error.option)
        assertEquals("plain", store.getItemBlocking("k"), "nothing was stored with weaker protection")
    }

    @Test
    fun protectionIsReportedAsSoftware() {
        assertEquals(ProtectionLevel.SOFTWARE, store.protectionLevel())
        assertEquals(false, store.canUseBiometricAuthentication())
    }

    @Test
    fun appSuppliedKeyProtectsEntries() {
        val keyA = ByteArray(32) { 1 }
        val keyB = ByteArray(32) { 2 }
        val appDirectory = Files.createTempDirectory("securestore-app-key")
        try {
            val storeA = JvmSecureStore.open(appDirectory, JvmKeyProtection.AppSuppliedKey(keyA))
            storeA.setItemBlocking("session", "with key A")
            assertEquals("with key A", JvmSecureStore.open(appDirectory, JvmKeyProtection.AppSuppliedKey(keyA)).getItemBlocking("session"))

            // Another key is a configuration error, never "absent": nothing is replaced.
            val storeB = JvmSecureStore.open(appDirectory, JvmKeyProtection.AppSuppliedKey(keyB))
            assertFailsWith<SecureStoreException.Configuration> { storeB.getItemBlocking("session") }
            assertFailsWith<SecureStoreException.Configuration> { storeB.setItemBlocking("session", "with key B") }
            assertFailsWith<SecureStoreException.Configuration> { storeB.listKeysBlocking() }
            assertEquals("with key A", JvmSecureStore.open(appDirectory, JvmKeyProtection.AppSuppliedKey(keyA)).getItemBlocking("session"))

            // Deleting the service is the way to start over with the new key.
            storeB.deleteServiceBlocking()
            storeB.setItemBlocking("session", "with key B")
            assertEquals("with key B", JvmSecureStore.open(appDirectory, JvmKeyProtection.AppSuppliedKey(keyB)).getItemBlocking("session"))
        } finally {
            appDirectory.toFile().deleteRecursively()
        }
    }

    @Test
    fun otherProtectionKindIsConfigurationError() {
        store.setItemBlocking("session", "keystore protected")
        val withAppKey = JvmSecureStore.open(directory, JvmKeyProtection.AppSuppliedKey(ByteArray(32) { 7 }))

        assertFailsWith<SecureStoreException.Configuration> { withAppKey.getItemBlocking("session") }
        assertFailsWith<SecureStoreException.Configuration> { withAppKey.setItemBlocking("session", "replaced") }
        assertEquals("keystore protected", JvmSecureStore.open(directory).getItemBlocking("session"))
    }

    @Test
    fun appSuppliedKeyMustBe32Bytes() {
        assertFailsWith<IllegalArgumentException> { JvmKeyProtection.AppSuppliedKey(ByteArray(16)) }
    }

    @Test
    fun lostKeystoreReadsNullAndRecovers() {
        store.setItemBlocking("session", "before restore")
        store.setItemBlocking("other", "before restore", SecureStoreOptions(keychainService = "svcA"))
        Files.delete(directory.resolve("keystore.p12"))

        // A new process: no cached keys, the keystore is gone as after a backup restore.
        val restored = JvmSecureStore.open(directory)
        assertNull(restored.getItemBlocking("session"))
        assertTrue(Files.notExists(directory.resolve("keystore.p12")), "a read never creates key material")

        restored.setItemBlocking("k2", "v2")
        assertEquals("v2", restored.getItemBlocking("k2"))
        assertEquals("v2", JvmSecureStore.open(directory).getItemBlocking("k2"))
        assertNull(restored.getItemBlocking("other", SecureStoreOptions(keychainService = "svcA")))
    }

    @Test
    fun readingMissingKeyCreatesNothing() {
        val fresh = Files.createTempDirectory("securestore-fresh")
        try {
            val emptyStore = JvmSecureStore.open(fresh)
            assertNull(emptyStore.getItemBlocking("absent"))
            assertEquals(KeyListing(emptyList()), emptyStore.listKeysBlocking())
            val created = Files.walk(fresh).use { paths -> paths.filter { it.isRegularFile() }.toList() }
            assertEquals(emptyList(), created)
        } finally {
            fresh.toFile().deleteRecursively()
        }
    }

    @Test
    fun suspendCallsLeaveCallerThread() = runTest {
        val caller = Thread.currentThread()
        val worker = withContext(storeDispatcher) { Thread.currentThread() }
        assertNotEquals(caller, worker)
        store.setItem("k", "v")
        assertEquals("v", store.getItem("k"))
    }

    @Test
    fun defaultServiceMatchesCore() {
        assertEquals(uniffi.securestore.defaultService(), SecureStore.DEFAULT_SERVICE)
        assertEquals(uniffi.securestore.defaultMaxValueBytes().toInt(), SecureStore.DEFAULT_MAX_VALUE_BYTES)
    }
}

private fun ByteArray.containsSequence(needle: ByteArray): Boolean =
    needle.isEmpty() || (0..size - needle.size).any { start -> needle.indices.all { this[start + it] == needle[it] } }
