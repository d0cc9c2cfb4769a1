package dev.securestore

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers

internal actual val storeDispatcher: CoroutineDispatcher = Dispatchers.IO

/**
 * Opens the app's store: encrypted files in `noBackupFilesDir/securestore`, with keys in
 * Android Keystore. The library's initializer supplies the `Context` at app start; in
 * processes where it does not run, call [AndroidSecureStore.init] first.
 */
public actual fun SecureStore(config: SecureStoreConfig): SecureStore = AndroidSecureStore.open(config)
