package dev.securestore

import android.content.Context
import dev.securestore.internal.AndroidKeystoreKeyProvider
import dev.securestore.internal.AndroidNativeLibrary
import dev.securestore.internal.canUseStrongBiometrics
import dev.securestore.internal.openCoreStore
import java.io.File

/**
 * Opens stores on Android.
 *
 * Entries live in `noBackupFilesDir/securestore`, so Auto Backup and device-to-device
 * transfer never copy them: a copy would arrive without the Keystore keys that decrypt it,
 * because Keystore keys never leave the device.
 *
 * The library's manifest declares a `ContentProvider` that calls [init] before
 * `Application.onCreate`, in the app's main process. Other processes, and apps that remove
 * that provider from the merged manifest, call [init] themselves before the first [open].
 */
public object AndroidSecureStore {
    private const val DIRECTORY_NAME = "securestore"
    private const val KEY_CREATION_LOCK = ".keystore.lock"

    @Volatile
    private var applicationContext: Context? = null

    /** Stores the application context that [open] and [SecureStore] use. Calling it again is harmless. */
    public fun init(context: Context) {
        applicationContext = context.applicationContext ?: context
    }

    /**
     * Opens the app's store with the context given to [init].
     *
     * @throws SecureStoreException.Configuration if no context was given yet.
     */
    public fun open(config: SecureStoreConfig = SecureStoreConfig()): SecureStore {
        val context = applicationContext ?: throw SecureStoreException.Configuration(
            "SecureStore has no Android Context in this process; call AndroidSecureStore.init(context) " +
                "first, or keep dev.securestore.internal.SecureStoreInitializer in the merged manifest",
        )
        return open(context, config)
    }

    /** Opens the app's store. Opening reads no entries, so its cost does not grow with their number. */
    public fun open(context: Context, config: SecureStoreConfig = SecureStoreConfig()): SecureStore {
        val appContext = context.applicationContext ?: context
        init(appContext)
        AndroidNativeLibrary.ensureLoaded()
        val directory = directory(appContext)
        val provider = AndroidKeystoreKeyProvider(appContext, File(directory, KEY_CREATION_LOCK))
        return openCoreStore(directory.path, provider, config) { canUseStrongBiometrics(appContext) }
    }

    /** Returns the directory that contains the app's entries: `noBackupFilesDir/securestore`. */
    public fun directory(context: Context): File = File(context.noBackupFilesDir, DIRECTORY_NAME)
}
