package dev.securestore

import android.os.Build
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import androidx.test.platform.app.InstrumentationRegistry
import java.io.File
import java.security.KeyFactory
import java.security.KeyStore
import java.security.PrivateKey
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

// NOTE: instrumented tests run only on an Android device or emulator
// (./gradlew :kmp:connectedAndroidTest). The build machine of this repository has neither,
// so its Maven build only compiles them.

/**
 * Android-specific behaviour against the real Android Keystore: where keys and files live,
 * the protection reported, a restore without keys, and the authentication-bound key. Reading
 * an authenticated entry needs a person at the device, so no test here reads one.
 */
class AndroidKeystoreTest {
    private val instrumentation = InstrumentationRegistry.getInstrumentation()
    private val context = instrumentation.targetContext
    private val service = SecureStoreOptions(keychainService = "android-keystore-test")
    private val authenticated = service.copy(requireAuthentication = true, authenticationPrompt = "SecureStore test")

    private fun keystore(): KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun storeAliases(): Set<String> = keystore().aliases().toList().filter { it.startsWith("securestore.") }.toSet()

    @BeforeTest
    @AfterTest
    fun deleteService() {
        AndroidSecureStore.open(context).deleteServiceBlocking(service)
    }

    @Test
    fun initializerProvidesContext() {
        // The library's ContentProvider ran when the test app started, so no init call is needed.
        val store = SecureStore()
        store.setItemBlocking("k", "v", service)
        assertEquals("v", store.getItemBlocking("k", service))
    }

    @Test
    fun entriesLiveInNoBackupDirectory() {
        AndroidSecureStore.open(context).setItemBlocking("session", "token", service)

        val directory = AndroidSecureStore.directory(context)
        assertEquals(File(context.noBackupFilesDir, "securestore"), directory)
        val files = directory.walkTopDown().filter { it.isFile }.toList()
        assertTrue(files.any { it.name.startsWith("e-") }, "an entry file was written: $files")
        assertTrue(!File(context.filesDir, "securestore").exists(), "nothing is written where Auto Backup looks")
    }

    @Test
    fun keysLiveInAndroidKeystore() {
        AndroidSecureStore.open(context).setItemBlocking("session", "token", service)

        val plainAliases = storeAliases().filter { !it.endsWith(".auth") }
        assertTrue(plainAliases.isNotEmpty(), "a Keystore key was created: ${storeAliases()}")
        for (alias in plainAliases) {
            val key = keystore().getKey(alias, null)
            assertTrue(key is SecretKey, "$alias is an AES key")
            assertEquals("AES", key.algorithm)
        }
    }

    @Test
    fun protectionMatchesKeyInfo() {
        val store = AndroidSecureStore.open(context)
        store.setItemBlocking("session", "token", service)

        val levels = storeAliases().filter { !it.endsWith(".auth") }.map { alias ->
            val key = keystore().getKey(alias, null) as SecretKey
            val info = SecretKeyFactory.getInstance(key.algorithm, "AndroidKeyStore").getKeySpec(key, KeyInfo::class.java) as KeyInfo
            levelOf(info)
        }
        assertEquals(levels.minOrNull(), store.protectionLevel(service))
    }

    @Test
    fun restoredEntryWithoutKeyReadsNull() {
        AndroidSecureStore.open(context).setItemBlocking("session", "before restore", service)
        // A restore on a new device brings files but no Keystore keys.
        val keystore = keystore()
        storeAliases().forEach(keystore::deleteEntry)

        val restored = AndroidSecureStore.open(context)
        assertNull(restored.getItemBlocking("session", service))
        assertEquals(emptySet(), storeAliases(), "a read never creates key material")

        restored.setItemBlocking("session", "after restore", service)
        assertEquals("after restore", restored.getItemBlocking("session", service))
        assertEquals("after restore", AndroidSecureStore.open(context).getItemBlocking("session", service))
    }

    @Test
    fun authenticatedKeyNeedsBiometricPerUse() {
        val store = AndroidSecureStore.open(context)
        store.setItemBlocking("token", "plain", service)
        if (!store.canUseBiometricAuthentication()) {
            val error = assertFailsWith<SecureStoreException.UnsupportedOption> {
                store.setItemBlocking("token", "secret", authenticated)
            }
            assertEquals("requireAuthentication", error.option)
            assertEquals("plain", store.getItemBlocking("token", service), "nothing was stored with weaker protection")
            return
        }

        // Writing encrypts with the public key, so it needs no prompt.
        store.setItemBlocking("token", "secret", authenticated)
        val alias = storeAliases().single { it.endsWith(".auth") }
        val privateKey = keystore().getKey(alias, null) as PrivateKey
        val info = KeyFactory.getInstance(privateKey.algorithm, "AndroidKeyStore").getKeySpec(privateKey, KeyInfo::class.java)
        assertTrue(info.isUserAuthenticationRequired)
        assertTrue(info.isInvalidatedByBiometricEnrollment)
        assertTrue(info.userAuthenticationValidityDurationSeconds <= 0, "authentication is needed for every use")
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            assertEquals(KeyProperties.AUTH_BIOMETRIC_STRONG, info.userAuthenticationType)
        }
        assertNotNull(store.listKeysBlocking(service).keys.singleOrNull { it == "token" })
    }

    @Test
    fun authenticatedReadOnMainThreadIsRejected() {
        val store = AndroidSecureStore.open(context)
        if (!store.canUseBiometricAuthentication()) return
        store.setItemBlocking("token", "secret", authenticated)

        var error: Throwable? = null
        instrumentation.runOnMainSync {
            error = runCatching { store.getItemBlocking("token", authenticated) }.exceptionOrNull()
        }
        val rejected = error
        assertTrue(rejected is SecureStoreException.Configuration, "got $rejected")
        assertTrue("main thread" in rejected.detail, rejected.detail)
    }

    private fun levelOf(info: KeyInfo): ProtectionLevel =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            when (info.securityLevel) {
                KeyProperties.SECURITY_LEVEL_STRONGBOX -> ProtectionLevel.STRONG_BOX
                KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT, KeyProperties.SECURITY_LEVEL_UNKNOWN_SECURE ->
                    ProtectionLevel.TRUSTED_ENVIRONMENT
                else -> ProtectionLevel.SOFTWARE
            }
        } else {
            @Suppress("DEPRECATION")
            if (info.isInsideSecureHardware) ProtectionLevel.TRUSTED_ENVIRONMENT else ProtectionLevel.SOFTWARE
        }
}
