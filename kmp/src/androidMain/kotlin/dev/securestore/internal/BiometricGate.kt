package dev.securestore.internal

import android.annotation.TargetApi
import android.app.KeyguardManager
import android.content.Context
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import android.os.Looper
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executor
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicReference
import javax.crypto.Cipher

/**
 * Unlocks a Keystore cipher whose key needs a strong biometric for every use, by showing the
 * framework `BiometricPrompt` with the cipher as its `CryptoObject`. The calling thread waits
 * for the user, so it must not be the main thread. The prompt's callbacks run on a thread of
 * this class, never on the waiting one.
 *
 * The system shows the prompt only while the app is in the foreground; otherwise it reports
 * an error, which arrives here as a typed failure.
 */
@TargetApi(Build.VERSION_CODES.P)
internal class BiometricGate(private val context: Context) {
    /**
     * Shows the prompt titled [title] (the app's label when null or blank) and returns the
     * cipher once the user authenticated.
     *
     * @throws KeyProviderException with [KeyProviderException.USER_CANCELLED] when the user or
     *   the system dismissed the prompt, [KeyProviderException.AUTHENTICATION_FAILED] on
     *   lockout, timeout and other biometric errors, [KeyProviderException.DEVICE_LOCKED]
     *   while the device is locked, and [KeyProviderException.CONFIGURATION] on the main thread.
     */
    fun unlock(cipher: Cipher, title: String?): Cipher {
        if (Looper.myLooper() == Looper.getMainLooper()) {
            throw KeyProviderException(
                KeyProviderException.CONFIGURATION,
                "an entry that requires authentication cannot be read on the main thread, because the read waits " +
                    "for the user; call the suspend getItem, or getItemBlocking from a background thread",
            )
        }
        val keyguard = context.getSystemService(KeyguardManager::class.java)
        if (keyguard != null && keyguard.isDeviceLocked) {
            throw KeyProviderException(KeyProviderException.DEVICE_LOCKED, "the device is locked; unlock it and read again")
        }

        val outcome = AtomicReference<Outcome?>(null)
        val done = CountDownLatch(1)
        val finish = { result: Outcome ->
            if (outcome.compareAndSet(null, result)) done.countDown()
        }
        val cancelled = Outcome.Failed(
            KeyProviderException(KeyProviderException.USER_CANCELLED, "the user dismissed the authentication prompt"),
        )

        val builder = BiometricPrompt.Builder(context)
            .setTitle(title?.takeIf { it.isNotBlank() } ?: appLabel())
            .setNegativeButton(context.getString(android.R.string.cancel), callbackExecutor) { _, _ -> finish(cancelled) }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            builder.setAllowedAuthenticators(BiometricManager.Authenticators.BIOMETRIC_STRONG)
        }
        val callback = object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                finish(Outcome.Unlocked(result.cryptoObject?.cipher ?: cipher))
            }

            override fun onAuthenticationError(errorCode: Int, errString: CharSequence?) {
                finish(Outcome.Failed(biometricFailure(errorCode, errString?.toString().orEmpty())))
            }

            // onAuthenticationFailed reports one rejected attempt; the prompt stays open for another.
        }

        val cancellation = CancellationSignal()
        try {
            builder.build().authenticate(BiometricPrompt.CryptoObject(cipher), cancellation, callbackExecutor, callback)
        } catch (e: RuntimeException) {
            throw KeyProviderException(KeyProviderException.UNAVAILABLE, "the authentication prompt could not be shown: $e", e)
        }
        try {
            done.await()
        } catch (e: InterruptedException) {
            cancellation.cancel()
            Thread.currentThread().interrupt()
            throw KeyProviderException(
                KeyProviderException.USER_CANCELLED,
                "the read was interrupted while the authentication prompt was shown",
                e,
            )
        }
        return when (val result = checkNotNull(outcome.get())) {
            is Outcome.Unlocked -> result.cipher
            is Outcome.Failed -> throw result.error
        }
    }

    private fun appLabel(): String = context.applicationInfo.loadLabel(context.packageManager).toString()

    private sealed class Outcome {
        class Unlocked(val cipher: Cipher) : Outcome()

        class Failed(val error: KeyProviderException) : Outcome()
    }

    private companion object {
        /** One daemon thread for every prompt's callbacks, so no callback waits on a blocked caller. */
        val callbackExecutor: Executor = Executors.newSingleThreadExecutor { runnable ->
            Thread(runnable, "securestore-biometric-callbacks").apply { isDaemon = true }
        }
    }
}

/**
 * Converts a `BiometricPrompt` error code into the typed failure the core maps to the public
 * errors: dismissal gives `AuthenticationCancelled`, and lockout, timeout and the other
 * errors give `AuthenticationFailed` with the platform's message.
 */
internal fun biometricFailure(errorCode: Int, message: String): KeyProviderException =
    when (errorCode) {
        BiometricPrompt.BIOMETRIC_ERROR_CANCELED,
        BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED,
        BiometricPrompt.BIOMETRIC_ERROR_NEGATIVE_BUTTON,
        -> KeyProviderException(
            KeyProviderException.USER_CANCELLED,
            "the authentication prompt was dismissed (biometric error $errorCode: $message)",
        )
        BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT,
        BiometricPrompt.BIOMETRIC_ERROR_LOCKOUT_PERMANENT,
        -> KeyProviderException(
            KeyProviderException.AUTHENTICATION_FAILED,
            "biometric authentication is locked out after too many failed attempts (biometric error $errorCode: $message)",
        )
        BiometricPrompt.BIOMETRIC_ERROR_TIMEOUT -> KeyProviderException(
            KeyProviderException.AUTHENTICATION_FAILED,
            "biometric authentication timed out (biometric error $errorCode: $message)",
        )
        else -> KeyProviderException(
            KeyProviderException.AUTHENTICATION_FAILED,
            "biometric authentication failed (biometric error $errorCode: $message)",
        )
    }
