package dev.securestore

import dev.securestore.internal.CoreSecureStore
import dev.securestore.internal.translate
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.IO
import platform.LocalAuthentication.LAContext
import platform.LocalAuthentication.LAPolicyDeviceOwnerAuthenticationWithBiometrics
import uniffi.securestore.SecureStoreCore
import uniffi.securestore.canUseBiometricAuthentication as coreCanUseBiometrics

internal actual val storeDispatcher: CoroutineDispatcher = Dispatchers.IO

/**
 * Opens the Keychain store of iOS and tvOS: each entry is a generic-password item whose
 * service is derived from `keychainService`, so items written by other code are never
 * returned.
 */
public actual fun SecureStore(config: SecureStoreConfig): SecureStore {
    checkMaxValueBytes(config.maxValueBytes)
    val core = translate { SecureStoreCore.openKeychain(config.maxValueBytes.toULong()) }
    return CoreSecureStore(core, ::canUseBiometrics)
}

/**
 * Returns the core's result, which is `false` on tvOS. Elsewhere the core cannot tell, so
 * LocalAuthentication checks whether biometrics are enrolled.
 */
private fun canUseBiometrics(): Boolean =
    coreCanUseBiometrics() ?: LAContext().canEvaluatePolicy(LAPolicyDeviceOwnerAuthenticationWithBiometrics, error = null)
