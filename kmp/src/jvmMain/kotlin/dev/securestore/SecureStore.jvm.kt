package dev.securestore

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers

internal actual val storeDispatcher: CoroutineDispatcher = Dispatchers.IO

/**
 * Opens the default store of this user: encrypted files in [JvmSecureStore.defaultDirectory],
 * with root keys wrapped by a PKCS12 keystore in the same directory.
 */
public actual fun SecureStore(config: SecureStoreConfig): SecureStore =
    JvmSecureStore.open(JvmSecureStore.defaultDirectory(), JvmKeyProtection.SoftwareKeystore, config)
