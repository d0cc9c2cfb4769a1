package dev.securestore.internal

import dev.securestore.SecureStore
import dev.securestore.SecureStoreConfig
import dev.securestore.checkMaxValueBytes
import uniffi.securestore.SecureStoreCore

/**
 * Opens the Rust core's file-backed store in [directory], with root keys wrapped by
 * [provider] through JNI. The native library must already be loaded by the caller, because
 * JVM and Android load it differently. [biometrics] returns the value of
 * [SecureStore.canUseBiometricAuthentication].
 *
 * Every platform opens its stores here, and tests use it to open a store with a key provider
 * that simulates platform failures.
 */
internal fun openCoreStore(
    directory: String,
    provider: PlatformKeyProvider,
    config: SecureStoreConfig,
    biometrics: () -> Boolean,
): SecureStore {
    checkMaxValueBytes(config.maxValueBytes)
    val handle = NativeKeyProviders.nativeRegister(provider)
    try {
        val core = translate {
            SecureStoreCore.openWithJniProvider(directory, handle.toULong(), config.maxValueBytes.toULong())
        }
        return CoreSecureStore(core, biometrics, NativeEntryCalls(core.jniHandle().toLong(), core))
    } finally {
        // The store keeps its own reference to the provider.
        NativeKeyProviders.nativeUnregister(handle)
    }
}
