package dev.securestore

import dev.securestore.internal.JcaKeyProvider
import dev.securestore.internal.NativeLibrary
import dev.securestore.internal.openCoreStore
import java.nio.file.Path
import java.nio.file.Paths

/**
 * The protection of a desktop store's root keys. The desktop JVM has no hardware-backed key
 * store, so both choices report [ProtectionLevel.SOFTWARE]: they protect against other users
 * of the machine (through file permissions) and against copies of the entries alone, not
 * against code running as the same user.
 */
public sealed class JvmKeyProtection {
    /**
     * AES keys in a PKCS12 keystore file inside the store directory, created on first write.
     * Copying the whole directory copies the keys too.
     */
    public data object SoftwareKeystore : JvmKeyProtection()

    /**
     * A 256-bit key that the app supplies, for example from its own secret management.
     * Opening a store with another key than the one it was created with makes every
     * operation on its existing services throw [SecureStoreException.Configuration]; the
     * entries stay until the service is deleted.
     */
    public class AppSuppliedKey(key: ByteArray) : JvmKeyProtection() {
        internal val key: ByteArray = key.copyOf()

        init {
            require(key.size == 32) { "an app-supplied key is 32 bytes, this one is ${key.size}" }
        }

        override fun toString(): String = "AppSuppliedKey(..)"
    }
}

/** Opens file-backed stores on the desktop JVM. */
public object JvmSecureStore {
    /**
     * Opens (creating if needed) the store in [directory]. Opening reads no entries, so its
     * cost does not grow with the number of entries.
     */
    public fun open(
        directory: Path,
        keyProtection: JvmKeyProtection = JvmKeyProtection.SoftwareKeystore,
        config: SecureStoreConfig = SecureStoreConfig(),
    ): SecureStore {
        checkMaxValueBytes(config.maxValueBytes)
        try {
            NativeLibrary.ensureLoaded()
        } catch (e: UnsatisfiedLinkError) {
            throw SecureStoreException.Configuration("the SecureStore native library could not be loaded: ${e.message}")
        } catch (e: java.io.IOException) {
            throw SecureStoreException.Configuration(
                "the SecureStore native library could not be extracted ($e); set XDG_CACHE_HOME to a writable " +
                    "directory, or the system property securestore.library.path to the library",
            )
        }
        val absolute = directory.toAbsolutePath()
        val provider = when (keyProtection) {
            is JvmKeyProtection.SoftwareKeystore -> JcaKeyProvider.keystoreIn(absolute)
            is JvmKeyProtection.AppSuppliedKey -> JcaKeyProvider.withAppKey(keyProtection.key)
        }
        return openCoreStore(absolute.toString(), provider, config) { false }
    }

    /**
     * Returns the directory the default store uses: the system property
     * `securestore.directory` if set, else a per-user data directory (`$XDG_DATA_HOME` or
     * `~/.local/share` on Linux, `~/Library/Application Support` on macOS, `%LOCALAPPDATA%`
     * on Windows) followed by `securestore`.
     */
    public fun defaultDirectory(): Path {
        System.getProperty("securestore.directory")?.let { return Paths.get(it) }
        val home = System.getProperty("user.home")
        val os = System.getProperty("os.name").lowercase()
        val base = when {
            os.startsWith("windows") -> System.getenv("LOCALAPPDATA") ?: Paths.get(home, "AppData", "Local").toString()
            os.startsWith("mac") -> Paths.get(home, "Library", "Application Support").toString()
            else -> System.getenv("XDG_DATA_HOME")?.takeIf { it.isNotEmpty() } ?: Paths.get(home, ".local", "share").toString()
        }
        return Paths.get(base, "securestore")
    }
}
