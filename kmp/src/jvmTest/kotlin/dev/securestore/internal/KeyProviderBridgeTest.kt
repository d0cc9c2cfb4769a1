package dev.securestore.internal

import dev.securestore.ProtectionLevel
import dev.securestore.SecureStore
import dev.securestore.SecureStoreConfig
import dev.securestore.SecureStoreContract
import dev.securestore.SecureStoreException
import dev.securestore.SecureStoreOptions
import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import kotlin.io.path.isRegularFile
import kotlin.io.path.readBytes
import kotlin.reflect.KClass
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * The contract between the Rust core and a platform key provider, through the real JNI
 * bridge and the real core. [SimulatedKeystore] replaces Android Keystore and reproduces
 * its failures: keys lost in a restore, keys invalidated by a new biometric
 * enrolment, a dismissed or locked-out prompt, a locked device, a failing Keystore.
 */
class KeyProviderBridgeTest {
    private val directory: Path = Files.createTempDirectory("securestore-bridge")
    private val keystore = SimulatedKeystore()
    private val auth = SecureStoreOptions(requireAuthentication = true, authenticationPrompt = "Unlock your token")

    /** Opens the store as a new process would: no key is cached yet, the Keystore keys persist. */
    private fun open(): SecureStore = openSimulatedStore(directory, keystore)

    @AfterTest
    fun removeDirectory() {
        directory.toFile().deleteRecursively()
    }

    @Test
    fun restoredEntryWithoutKeyReadsNull() {
        open().setItemBlocking("session", "before restore")
        // The files come back from a backup, the Keystore keys do not.
        keystore.loseAllKeys()
        val createdBefore = keystore.created.toList()

        val restored = open()
        assertNull(restored.getItemBlocking("session"))
        assertNull(restored.getItemBlocking("never-written"))
        assertTrue(restored.listKeysBlocking().rootKeyLost)
        assertEquals(createdBefore, keystore.created, "a read never creates key material")
        assertEquals(emptySet(), keystore.aliases)

        restored.setItemBlocking("session", "after restore")
        assertEquals("after restore", restored.getItemBlocking("session"))
    }

    @Test
    fun writeAfterLostKeyReadsBack() {
        open().setItemBlocking("session", "before restore")
        keystore.loseAllKeys()

        val restored = open()
        assertNull(restored.getItemBlocking("session"))
        restored.setItemBlocking("k2", "v2")

        assertEquals("v2", restored.getItemBlocking("k2"))
        assertEquals("v2", open().getItemBlocking("k2"), "after a restart")
        assertNull(open().getItemBlocking("session"), "the entry of the lost key stays unreadable")
    }

    @Test
    fun invalidatedAuthKeyIsReplacedOnWrite() {
        val store = open()
        store.setItemBlocking("plain", "plain value")
        store.setItemBlocking("token", "first", auth)
        store.setItemBlocking("other", "other secret", auth)
        val authAlias = keystore.aliases.single { it.endsWith(SimulatedKeystore.AUTH_SUFFIX) }

        // A new biometric enrolment invalidates the authentication-bound key.
        keystore.invalidateAuthenticatedKeys()
        assertNull(store.getItemBlocking("token", auth))
        assertEquals(emptyList(), keystore.prompts, "no prompt for a key that can never unlock the entry")

        store.setItemBlocking("token", "second", auth)
        assertEquals("second", store.getItemBlocking("token", auth))
        assertEquals("second", open().getItemBlocking("token", auth))
        assertEquals(listOf(authAlias), keystore.deleted, "only the invalidated key is replaced")
        assertNull(store.getItemBlocking("other", auth), "entries of the invalidated key stay unreadable")

        assertEquals("plain value", store.getItemBlocking("plain"))
        assertEquals("plain value", open().getItemBlocking("plain"))
    }

    @Test
    fun authenticatedEntryUsesAuthKey() {
        val store = open()
        store.setItemBlocking("k1", "plain value")
        store.setItemBlocking("k2", "secret", auth)
        val authAlias = keystore.aliases.single { it.endsWith(SimulatedKeystore.AUTH_SUFFIX) }
        val plainAlias = keystore.aliases.single { it != authAlias }

        assertTrue(SimulatedKeystore.Call("wrap", authAlias, authenticated = true) in keystore.calls)
        assertEquals(emptyList(), keystore.prompts, "writing needs no authentication")

        assertEquals("secret", store.getItemBlocking("k2", auth))
        assertTrue(SimulatedKeystore.Call("unwrap", authAlias, authenticated = true, prompt = "Unlock your token") in keystore.calls)
        assertEquals(listOf<String?>("Unlock your token"), keystore.prompts)

        // The entry's own flag decides, not the options of the read.
        assertEquals("secret", store.getItemBlocking("k2"))
        assertEquals(listOf("Unlock your token", null), keystore.prompts)

        assertEquals("plain value", store.getItemBlocking("k1"))
        val authenticatedPlainCalls = keystore.calls.filter { it.alias == plainAlias && it.authenticated }
        assertEquals(emptyList(), authenticatedPlainCalls, "the plain key is never used for authentication")
        assertEquals(2, keystore.prompts.size, "plain entries never prompt")
        assertEquals(listOf("k1", "k2"), store.listKeysBlocking().keys)
        assertEquals(2, keystore.prompts.size, "listing keys never prompts")
    }

    @Test
    fun authKeyGatesValueNotPrompt() {
        val store = open()
        store.setItemBlocking("k1", "plain value")
        store.setItemBlocking("k2", "secret", auth)

        // Without the authentication-bound key, the service's root key alone cannot decrypt it.
        keystore.loseAuthenticatedKeys()
        assertNull(store.getItemBlocking("k2", auth))
        assertEquals(emptyList(), keystore.prompts)
        assertEquals("plain value", store.getItemBlocking("k1"))
    }

    @Test
    fun plainEntriesReadWhileAuthKeyFails() {
        val store = open()
        store.setItemBlocking("k1", "plain value")
        store.setItemBlocking("k2", "secret", auth)
        val before = snapshot()

        keystore.authenticatedKeyFailure = KeyProviderException.UNAVAILABLE
        assertFailsWith<SecureStoreException.KeyStoreUnavailable> { store.getItemBlocking("k2", auth) }
        assertEquals("plain value", store.getItemBlocking("k1"))
        assertEquals("plain value", open().getItemBlocking("k1"))
        assertEquals(before, snapshot())

        keystore.authenticatedKeyFailure = null
        assertEquals("secret", store.getItemBlocking("k2", auth))
    }

    @Test
    fun failingKeystoreThrowsTypedAndDeletesNothing() {
        val expectedErrors: List<Pair<Int, KClass<out SecureStoreException>>> = listOf(
            KeyProviderException.UNAVAILABLE to SecureStoreException.KeyStoreUnavailable::class,
            KeyProviderException.DEVICE_LOCKED to SecureStoreException.DeviceLocked::class,
            KeyProviderException.AUTHENTICATION_FAILED to SecureStoreException.AuthenticationFailed::class,
            KeyProviderException.USER_CANCELLED to SecureStoreException.AuthenticationCancelled::class,
        )
        open().setItemBlocking("session", "kept")
        val before = snapshot()
        assertTrue(before.isNotEmpty(), "the store wrote files")

        for ((code, expected) in expectedErrors) {
            keystore.keystoreFailure = code
            // A new process, so the root key must be unwrapped again.
            val store = open()
            assertThrowsType(expected, "read, code $code") { store.getItemBlocking("session") }
            assertThrowsType(expected, "read of an absent key, code $code") { store.getItemBlocking("never-written") }
            assertThrowsType(expected, "write, code $code") { store.setItemBlocking("session", "overwrite") }
            assertThrowsType(expected, "delete, code $code") { store.deleteItemBlocking("session") }
            assertThrowsType(expected, "list, code $code") { store.listKeysBlocking() }
            assertEquals(before, snapshot(), "code $code changed the files")
            assertEquals(emptyList(), keystore.deleted, "code $code deleted a key")

            keystore.keystoreFailure = null
            assertEquals("kept", store.getItemBlocking("session"), "after code $code passed")
        }
        assertEquals("kept", open().getItemBlocking("session"))
    }

    @Test
    fun failedPromptThrowsTypedAndDeletesNothing() {
        val expectedErrors: List<Pair<Int, KClass<out SecureStoreException>>> = listOf(
            KeyProviderException.USER_CANCELLED to SecureStoreException.AuthenticationCancelled::class,
            KeyProviderException.AUTHENTICATION_FAILED to SecureStoreException.AuthenticationFailed::class,
            KeyProviderException.DEVICE_LOCKED to SecureStoreException.DeviceLocked::class,
            KeyProviderException.UNAVAILABLE to SecureStoreException.KeyStoreUnavailable::class,
            // What the Android provider throws for an authenticated read on the main thread.
            KeyProviderException.CONFIGURATION to SecureStoreException.Configuration::class,
        )
        val store = open()
        store.setItemBlocking("token", "secret", auth)
        val before = snapshot()

        for ((code, expected) in expectedErrors) {
            keystore.promptFailure = code
            assertThrowsType(expected, "code $code") { store.getItemBlocking("token", auth) }
            assertEquals(before, snapshot(), "code $code changed the files")
            assertEquals(emptyList(), keystore.deleted, "code $code deleted a key")

            keystore.promptFailure = null
            assertEquals("secret", store.getItemBlocking("token", auth), "after code $code passed")
        }
    }

    @Test
    fun lockoutIsAuthenticationFailed() {
        val store = open()
        store.setItemBlocking("token", "secret", auth)
        keystore.promptFailure = KeyProviderException.AUTHENTICATION_FAILED

        val error = assertFailsWith<SecureStoreException.AuthenticationFailed> { store.getItemBlocking("token", auth) }
        assertTrue("simulated prompt result" in error.reason, error.reason)
    }

    @Test
    fun cancelIsAuthenticationCancelled() {
        val store = open()
        store.setItemBlocking("token", "secret", auth)
        keystore.promptFailure = KeyProviderException.USER_CANCELLED

        assertFailsWith<SecureStoreException.AuthenticationCancelled> { store.getItemBlocking("token", auth) }
        assertFailsWith<SecureStoreException.AuthenticationCancelled> { open().getItemBlocking("token") }
    }

    @Test
    fun writesNeedNoPrompt() {
        val store = open()
        keystore.promptFailure = KeyProviderException.USER_CANCELLED

        store.setItemBlocking("token", "first", auth)
        store.setItemBlocking("token", "second", auth)
        assertEquals(emptyList(), keystore.prompts)

        keystore.promptFailure = null
        assertEquals("second", store.getItemBlocking("token", auth))
    }

    @Test
    fun untypedProviderErrorIsUnavailable() {
        open().setItemBlocking("session", "kept")
        keystore.foreignFailure = IllegalStateException("simulated crash")

        val error = assertFailsWith<SecureStoreException.KeyStoreUnavailable> { open().getItemBlocking("session") }
        assertTrue("java.lang.IllegalStateException" in error.detail, error.detail)
        assertTrue("simulated crash" in error.detail, error.detail)

        keystore.foreignFailure = null
        assertEquals("kept", open().getItemBlocking("session"))
    }

    @Test
    fun missingBiometricsIsUnsupported() {
        val store = open()
        store.setItemBlocking("k", "plain value")
        keystore.biometricsEnrolled = false

        val error = assertFailsWith<SecureStoreException.UnsupportedOption> { store.setItemBlocking("k", "secret", auth) }
        assertEquals("requireAuthentication", error.option)
        assertEquals("plain value", store.getItemBlocking("k"), "nothing was stored with weaker protection")
        assertTrue(keystore.aliases.none { it.endsWith(SimulatedKeystore.AUTH_SUFFIX) })
        assertEquals(false, store.canUseBiometricAuthentication())
    }

    @Test
    fun protectionComesFromProvider() {
        assertEquals(ProtectionLevel.TRUSTED_ENVIRONMENT, open().protectionLevel())
        assertEquals(ProtectionLevel.TRUSTED_ENVIRONMENT, open().protectionLevel(auth))
    }

    /** Returns every file under the store directory with the SHA-256 of its content. */
    private fun snapshot(): Map<String, String> =
        Files.walk(directory).use { paths ->
            paths.filter { it.isRegularFile() }.toList().associate { path ->
                val digest = MessageDigest.getInstance("SHA-256").digest(path.readBytes())
                directory.relativize(path).toString() to digest.joinToString("") { "%02x".format(it) }
            }
        }

    private fun assertThrowsType(expected: KClass<out SecureStoreException>, what: String, block: () -> Unit) {
        val error = assertFailsWith<SecureStoreException>(what) { block() }
        assertTrue(expected.isInstance(error), "$what: expected ${expected.simpleName}, got $error")
    }
}

/** The shared contract suite, against the core with [SimulatedKeystore] behind the JNI bridge. */
class SimulatedKeystoreContractTest : SecureStoreContract() {
    private val directory: Path = Files.createTempDirectory("securestore-bridge-contract")
    private val keystore = SimulatedKeystore()

    override fun createStore(config: SecureStoreConfig): SecureStore = openSimulatedStore(directory, keystore, config)

    @AfterTest
    fun removeDirectory() {
        directory.toFile().deleteRecursively()
    }
}

private fun openSimulatedStore(
    directory: Path,
    keystore: SimulatedKeystore,
    config: SecureStoreConfig = SecureStoreConfig(),
): SecureStore {
    NativeLibrary.ensureLoaded()
    return openCoreStore(directory.toString(), keystore, config) { keystore.biometricsEnrolled }
}
