package dev.securestore.internal

import android.os.Build
import android.security.KeyStoreException
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.UserNotAuthenticatedException

/**
 * Converts a failure of Android Keystore into the typed failure the core acts on.
 *
 * Only a key that is gone for good gives [KeyProviderException.KEY_LOST]: a permanently
 * invalidated key (new biometric enrolment, lock screen removed) or a key that Keystore
 * reports as not existing. The core treats `KEY_LOST` as "this key material will never come
 * back" and replaces it on the next write. A key that needs user authentication first gives
 * [KeyProviderException.AUTHENTICATION_FAILED], and every other failure, transient or not,
 * gives [KeyProviderException.UNAVAILABLE]; with both, the caller gets an error and nothing
 * is deleted. [operation] completes "failed to ... the Keystore key", for example "wrap a key
 * with". [sdkInt] is the API level; Keystore's public error details start at API 33.
 */
internal fun keystoreFailure(
    operation: String,
    alias: String,
    error: Throwable,
    sdkInt: Int = Build.VERSION.SDK_INT,
): KeyProviderException {
    val chain = generateSequence(error) { it.cause }.take(MAX_CAUSES).toList()
    if (chain.any { it is KeyPermanentlyInvalidatedException }) {
        return KeyProviderException(
            KeyProviderException.KEY_LOST,
            "the Keystore key $alias was permanently invalidated (new biometric enrolment or lock screen removed)",
            error,
        )
    }
    if (chain.any { it is UserNotAuthenticatedException }) {
        return KeyProviderException(
            KeyProviderException.AUTHENTICATION_FAILED,
            "the Keystore key $alias needs user authentication first",
            error,
        )
    }
    if (sdkInt >= Build.VERSION_CODES.TIRAMISU) {
        val keystoreError = chain.firstNotNullOfOrNull { it as? KeyStoreException }
        if (keystoreError != null) return fromKeystoreError(operation, alias, keystoreError, error)
    }
    return KeyProviderException(KeyProviderException.UNAVAILABLE, "failed to $operation the Keystore key $alias: $error", error)
}

/**
 * Reads the public error details that `android.security.KeyStoreException` has from API 33.
 * [error] was found in the cause chain of [thrown], which stays the cause of the result.
 */
private fun fromKeystoreError(operation: String, alias: String, error: KeyStoreException, thrown: Throwable): KeyProviderException =
    when {
        error.numericErrorCode == KeyStoreException.ERROR_KEY_DOES_NOT_EXIST -> KeyProviderException(
            KeyProviderException.KEY_LOST,
            "the Keystore key $alias does not exist",
            thrown,
        )
        error.requiresUserAuthentication() -> KeyProviderException(
            KeyProviderException.AUTHENTICATION_FAILED,
            "the Keystore key $alias needs user authentication first",
            thrown,
        )
        else -> {
            val retry = if (error.isTransientFailure) "; the failure is transient, so retrying may succeed" else ""
            KeyProviderException(
                KeyProviderException.UNAVAILABLE,
                "failed to $operation the Keystore key $alias: Keystore error ${error.numericErrorCode}$retry",
                thrown,
            )
        }
    }

private const val MAX_CAUSES = 8
