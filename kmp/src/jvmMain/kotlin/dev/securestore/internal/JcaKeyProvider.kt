package dev.securestore.internal

import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.nio.file.attribute.PosixFilePermissions
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * The desktop JVM's [PlatformKeyProvider]: AES-256-GCM through JCA, with keys in a PKCS12
 * keystore file or one key supplied by the app. Wrapped bytes are one byte naming the
 * protection (`K` for the keystore, `A` for an app-supplied key), a 12-byte random IV, then
 * the ciphertext and 128-bit tag.
 *
 * The keystore is read and written under an exclusive file lock, and replaced atomically,
 * so processes that create keys at the same moment keep one key per alias.
 */
internal class JcaKeyProvider private constructor(
    private val keystoreFile: Path?,
    private val appKey: SecretKey?,
) : PlatformKeyProvider {
    private val random = SecureRandom()

    /** The first byte of every wrapped key, naming the protection that wrapped it. */
    private val kind: Byte = if (appKey != null) KIND_APP_KEY else KIND_KEYSTORE

    private fun describe(kind: Byte): String =
        when (kind) {
            KIND_APP_KEY -> "an app-supplied key"
            KIND_KEYSTORE -> "the software keystore"
            else -> "an unknown key protection"
        }

    override fun wrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, key: ByteArray): ByteArray {
        rejectAuthentication(authenticated)
        val secret = appKey ?: withKeystore(exclusive = true) { store ->
            existingKey(store, alias) ?: createKey(store, alias)
        }
        val iv = ByteArray(IV_BYTES).also(random::nextBytes)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, secret, GCMParameterSpec(TAG_BITS, iv))
        cipher.updateAAD(boundAad(alias, aad))
        return byteArrayOf(kind) + iv + cipher.doFinal(key)
    }

    override fun unwrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, wrapped: ByteArray): ByteArray {
        rejectAuthentication(authenticated)
        val secret = appKey ?: withKeystore(exclusive = false) { store -> existingKey(store, alias) }
            ?: throw KeyProviderException(KeyProviderException.KEY_LOST, "no key named $alias in the keystore")
        if (wrapped.isNotEmpty() && wrapped[0] != kind) {
            // The store was created with the other kind of protection. Reporting the key as lost
            // would let the next write replace the store's keys and its entries.
            throw KeyProviderException(
                KeyProviderException.CONFIGURATION,
                "this store was created with ${describe(wrapped[0])}, not ${describe(kind)}; open it with the same JvmKeyProtection",
            )
        }
        if (wrapped.size < 1 + IV_BYTES + TAG_BITS / 8) {
            throw KeyProviderException(KeyProviderException.KEY_LOST, "wrapped key is too short")
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, secret, GCMParameterSpec(TAG_BITS, wrapped, 1, IV_BYTES))
        cipher.updateAAD(boundAad(alias, aad))
        try {
            return cipher.doFinal(wrapped, 1 + IV_BYTES, wrapped.size - 1 - IV_BYTES)
        } catch (e: AEADBadTagException) {
            if (appKey != null) {
                // An app-supplied key is never lost the way a device key is: a mismatch means the
                // app passed another key, and treating it as lost would let the next write
                // replace the store's keys and its entries.
                throw KeyProviderException(
                    KeyProviderException.CONFIGURATION,
                    "the app-supplied key is not the key this store was created with; open the store " +
                        "with that key, or delete the service to start over with this one",
                    e,
                )
            }
            throw KeyProviderException(KeyProviderException.KEY_LOST, "the key $alias did not wrap these bytes", e)
        }
    }

    override fun deleteKey(alias: String) {
        if (appKey != null) return
        withKeystore(exclusive = true) { store ->
            if (store.containsAlias(alias)) {
                store.deleteEntry(alias)
                save(store)
            }
        }
    }

    override fun protection(authenticated: Boolean): Int = ProtectionCode.SOFTWARE

    private fun rejectAuthentication(authenticated: Boolean) {
        if (authenticated) {
            throw KeyProviderException(
                KeyProviderException.UNSUPPORTED,
                "the desktop JVM has no key store that binds keys to user authentication",
            )
        }
    }

    /** Binds the alias too, so an app-supplied key never opens bytes wrapped for another alias. */
    private fun boundAad(alias: String, aad: ByteArray): ByteArray = alias.encodeToByteArray() + 0 + aad

    private fun existingKey(store: KeyStore, alias: String): SecretKey? =
        (store.getEntry(alias, PROTECTION) as? KeyStore.SecretKeyEntry)?.secretKey

    private fun createKey(store: KeyStore, alias: String): SecretKey {
        val key = KeyGenerator.getInstance("AES").apply { init(256, random) }.generateKey()
        store.setEntry(alias, KeyStore.SecretKeyEntry(key), PROTECTION)
        save(store)
        return key
    }

    /** Runs [block] on the keystore under a file lock; an absent keystore is empty. */
    private fun <T> withKeystore(exclusive: Boolean, block: (KeyStore) -> T): T {
        val file = checkNotNull(keystoreFile)
        val lockFile = file.resolveSibling("${file.fileName}.lock")
        // File locks belong to the whole JVM, and a second lock from another thread throws,
        // so threads of this process take turns on a monitor first.
        try {
            Files.createDirectories(file.parent)
            // Keyed by the real path, so a directory reached through a link or another spelling
            // shares one monitor, and this process never locks the file twice.
            val monitor = processLocks.computeIfAbsent(file.parent.toRealPath().resolve(file.fileName)) { Any() }
            synchronized(monitor) {
                createOwnerOnly(lockFile)
                FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ).use { channel ->
                    channel.lock(0, Long.MAX_VALUE, !exclusive).use {
                        val store = KeyStore.getInstance("PKCS12")
                        // Only a keystore that is really absent starts empty. Files.exists would
                        // also be false when the file cannot be checked (EIO, EACCES), and the
                        // next save would then replace every key in it.
                        try {
                            Files.newInputStream(file).use { store.load(it, PASSWORD) }
                        } catch (_: NoSuchFileException) {
                            store.load(null, PASSWORD)
                        }
                        return block(store)
                    }
                }
            }
        } catch (e: KeyProviderException) {
            throw e
        } catch (e: GeneralSecurityException) {
            throw KeyProviderException(KeyProviderException.UNAVAILABLE, "the keystore $file could not be used: $e", e)
        } catch (e: java.io.IOException) {
            throw KeyProviderException(KeyProviderException.UNAVAILABLE, "the keystore $file could not be read or written: $e", e)
        }
    }

    /** Writes the keystore to a private temporary file, forces it to disk, and renames it into place. */
    private fun save(store: KeyStore) {
        val file = checkNotNull(keystoreFile)
        val temp = Files.createTempFile(file.parent, ".keystore-", ".tmp")
        try {
            restrictToOwner(temp)
            FileChannel.open(temp, StandardOpenOption.WRITE).use { channel ->
                java.nio.channels.Channels.newOutputStream(channel).let { out ->
                    store.store(out, PASSWORD)
                    out.flush()
                }
                channel.force(true)
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        } finally {
            Files.deleteIfExists(temp)
        }
        FileChannel.open(file.parent, StandardOpenOption.READ).use { it.force(true) }
    }

    /** Creates [path] readable and writable by its owner only, unless it exists. */
    private fun createOwnerOnly(path: Path) {
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return
        try {
            if (path.fileSystem.supportedFileAttributeViews().contains("posix")) {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
            } else {
                Files.createFile(path)
            }
        } catch (_: java.nio.file.FileAlreadyExistsException) {
            // Another process created it first.
        }
    }

    private fun restrictToOwner(path: Path) {
        if (path.fileSystem.supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"))
        }
    }

    companion object {
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val KIND_KEYSTORE: Byte = 'K'.code.toByte()
        private const val KIND_APP_KEY: Byte = 'A'.code.toByte()
        private const val IV_BYTES = 12
        private const val TAG_BITS = 128
        private const val KEYSTORE_FILE = "keystore.p12"
        private val processLocks = java.util.concurrent.ConcurrentHashMap<Path, Any>()

        // The keystore is protected by the file's permissions. A password stored beside it would
        // add nothing, so a constant is used and the protection is reported as software.
        private val PASSWORD = "securestore".toCharArray()
        private val PROTECTION = KeyStore.PasswordProtection(PASSWORD)

        /** Returns a provider whose keys live in a PKCS12 keystore in [directory]. */
        fun keystoreIn(directory: Path): JcaKeyProvider = JcaKeyProvider(directory.resolve(KEYSTORE_FILE), null)

        /** Returns a provider that wraps every root key with the app's 256-bit [key]. */
        fun withAppKey(key: ByteArray): JcaKeyProvider = JcaKeyProvider(null, SecretKeySpec(key, "AES"))
    }
}
