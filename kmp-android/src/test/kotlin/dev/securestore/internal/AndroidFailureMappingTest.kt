package dev.securestore.internal

import android.hardware.biometrics.BiometricPrompt
import android.security.KeyStoreException
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import java.io.IOException
import java.security.ProviderException
import java.security.UnrecoverableKeyException
import javax.crypto.IllegalBlockSizeException
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertSame

/**
 * The Android provider's conversion of Keystore and BiometricPrompt failures into the codes
 * the core acts on, run on the JVM with the real framework exception classes of android-all.
 * Only a key that is gone for good may give KEY_LOST, because the core replaces such a key
 * on the next write and with it every entry it protected.
 */
class AndroidFailureMappingTest {
    private val alias = "securestore.v1.0123.auth"

    @Test
    fun invalidatedKeyIsLost() {
        val direct = keystoreFailure("unwrap", alias, KeyPermanentlyInvalidatedException(), sdkInt = 30)
        assertEquals(KeyProviderException.KEY_LOST, direct.getCode())

        val wrapped = UnrecoverableKeyException("Failed to obtain information about key").apply {
            initCause(KeyPermanentlyInvalidatedException())
        }
        assertEquals(KeyProviderException.KEY_LOST, keystoreFailure("unwrap", alias, wrapped, sdkInt = 30).getCode())
    }

    @Test
    fun missingKeyIsLostFromApi33() {
        val missing = keystoreError(KeyStoreException.ERROR_KEY_DOES_NOT_EXIST)
        val failure = ProviderException("Keystore operation failed", missing)

        assertEquals(KeyProviderException.KEY_LOST, keystoreFailure("unwrap", alias, failure, sdkInt = 33).getCode())
        // Below API 33 the error code is not public, so the failure is not taken as permanent.
        assertEquals(KeyProviderException.UNAVAILABLE, keystoreFailure("unwrap", alias, failure, sdkInt = 32).getCode())
    }

    @Test
    fun otherKeystoreErrorsAreUnavailable() {
        val failures = listOf(
            keystoreError(KeyStoreException.ERROR_INTERNAL_SYSTEM_ERROR),
            keystoreError(KeyStoreException.ERROR_KEY_CORRUPTED),
            keystoreError(KeyStoreException.ERROR_KEYMINT_FAILURE),
            IllegalBlockSizeException("operation failed"),
            UnrecoverableKeyException("Failed to obtain information about key"),
            StrongBoxUnavailableException("busy"),
            ProviderException("Keystore operation failed"),
            IOException("lock file"),
            IllegalStateException("Keystore is not initialized"),
        )
        for (failure in failures) {
            val mapped = keystoreFailure("wrap", alias, failure, sdkInt = 35)
            assertEquals(KeyProviderException.UNAVAILABLE, mapped.getCode(), "for $failure")
            assertSame(failure, mapped.cause)
        }
    }

    @Test
    fun authenticationRequiredIsFailedAuthentication() {
        val notAuthenticated = keystoreFailure("unwrap", alias, UserNotAuthenticatedException(), sdkInt = 30)
        assertEquals(KeyProviderException.AUTHENTICATION_FAILED, notAuthenticated.getCode())

        val required = keystoreError(KeyStoreException.ERROR_USER_AUTHENTICATION_REQUIRED)
        val mapped = keystoreFailure("unwrap", alias, IllegalBlockSizeException().apply { initCause(required) }, sdkInt = 34)
        assertEquals(KeyProviderException.AUTHENTICATION_FAILED, mapped.getCode())
    }

    @Test
    fun messagesNameAliasNotBytes() {
        val mapped = keystoreFailure("wrap a key with", alias, ProviderException("boom"), sdkInt = 30)
        assertEquals("failed to wrap a key with the Keystore key $alias: java.security.ProviderException: boom", mapped.message)
    }

    @Test
    fun promptErrorsMapToTypedCodes() {
        val expected = mapOf(
            BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED to KeyProviderException.USER_CANCELLED,
            BiometricPrompt.BIOMETRIC_ERROR_NEGATIVE_BUTTON to KeyProviderException.USER_CANCELLED,
            BiometricPrompt.BIOMETRIC_ERROR_CANCELED to KeyProviderException.USER_CANCELLED,
            BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT to KeyProviderException.AUTHENTICATION_FAILED,
            BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT_PERMANENT to KeyProviderException.AUTHENTICATION_FAILED,
            BiometricPrompt.BIOMETRIC_ERROR_TIMEOUT to KeyProviderException.AUTHENTICATION_FAILED,
            BiometricPrompt.BIOMETRIC_ERROR_HW_UNAVAILABLE to KeyProviderException.AUTHENTICATION_FAILED,
            BiometricPrompt.BIOMETRIC_ERROR_NO_BIOMETRICS to KeyProviderException.AUTHENTICATION_FAILED,
        )
        for ((errorCode, code) in expected) {
            val mapped = biometricFailure(errorCode, "platform message")
            assertEquals(code, mapped.getCode(), "biometric error $errorCode")
            assertEquals(true, mapped.message?.contains("platform message"), mapped.message)
        }
    }

    /**
     * Returns an exception whose public code is [publicCode]. The constructor takes Keystore's
     * internal response code, which the class maps to a public one, so the first internal code
     * that maps to [publicCode] is used. Codes without a mapping are skipped, and so is 22
     * (out of remotely provisioned keys), because for those the class writes to
     * android.util.Log, whose native half does not exist on the JVM.
     */
    private fun keystoreError(publicCode: Int): KeyStoreException =
        (-200..200)
            .filter { it != OUT_OF_KEYS && KeyStoreException.hasFailureInfoForError(it) }
            .map { KeyStoreException(it, "simulated Keystore error") }
            .first { it.numericErrorCode == publicCode }

    @Test
    fun promptErrorsNeverLoseKeys() {
        for (errorCode in 0..100) {
            val code = biometricFailure(errorCode, "").getCode()
            assertEquals(true, code != KeyProviderException.KEY_LOST && code != KeyProviderException.UNAVAILABLE, "biometric error $errorCode gave $code")
        }
    }

    private companion object {
        /** Keystore's internal response code for "out of remotely provisioned keys". */
        const val OUT_OF_KEYS = 22
    }
}
