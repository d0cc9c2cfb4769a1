package dev.securestore.internal

import android.content.Context
import android.hardware.biometrics.BiometricManager
import android.os.Build

/**
 * Returns whether a strong (class 3) biometric is enrolled and usable, which entries with
 * `requireAuthentication` need: their Keystore key is unlocked per use by a strong biometric.
 *
 * - API 30 and newer: `BiometricManager.canAuthenticate(BIOMETRIC_STRONG)`.
 * - API 29: `BiometricManager.canAuthenticate()`, which has no strength parameter there.
 * - API 28: an enrolled fingerprint (`FingerprintManager`), the only biometric that API 28
 *   lets unlock a per-use Keystore key.
 * - API 27 and older: false, because the framework `BiometricPrompt` does not exist there.
 */
internal fun canUseStrongBiometrics(context: Context): Boolean =
    try {
        when {
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.R -> {
                val manager = context.getSystemService(BiometricManager::class.java)
                manager?.canAuthenticate(BiometricManager.Authenticators.BIOMETRIC_STRONG) == BiometricManager.BIOMETRIC_SUCCESS
            }
            Build.VERSION.SDK_INT == Build.VERSION_CODES.Q -> {
                val manager = context.getSystemService(BiometricManager::class.java)
                @Suppress("DEPRECATION")
                manager?.canAuthenticate() == BiometricManager.BIOMETRIC_SUCCESS
            }
            Build.VERSION.SDK_INT == Build.VERSION_CODES.P -> hasEnrolledFingerprint(context)
            else -> false
        }
    } catch (e: SecurityException) {
        // The app's merged manifest lacks USE_BIOMETRIC or USE_FINGERPRINT.
        false
    }

@Suppress("DEPRECATION")
private fun hasEnrolledFingerprint(context: Context): Boolean {
    val manager = context.getSystemService(android.hardware.fingerprint.FingerprintManager::class.java) ?: return false
    return manager.isHardwareDetected && manager.hasEnrolledFingerprints()
}
