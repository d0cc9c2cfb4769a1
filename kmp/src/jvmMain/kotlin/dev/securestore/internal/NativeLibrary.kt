package dev.securestore.internal

import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.PosixFilePermissions
import java.security.MessageDigest

/**
 * Loads the Rust core once, for both of its callers: JNA (the generated bindings) and the
 * JVM's own JNI (the key provider bridge). Both must load the same file, or the bridge would
 * register providers in a second copy of the library that the bindings never see.
 *
 * The file is, in order: the path in the system property
 * `uniffi.component.securestore.libraryOverride`, the path in `securestore.library.path`,
 * or the library bundled as a resource under `native/<os>-<arch>/`. A bundled library inside
 * a jar is extracted once into a private per-user cache directory named after its SHA-256,
 * and checked against that hash before every load. When that cache or one of its parents up
 * to the cache base can be written by another user, the library goes to a new private
 * temporary directory instead.
 */
internal object NativeLibrary {
    private const val OVERRIDE_PROPERTY = "uniffi.component.securestore.libraryOverride"

    @Volatile
    private var loaded = false

    fun ensureLoaded() {
        if (loaded) return
        synchronized(this) {
            if (loaded) return
            val path = locate()
            System.setProperty(OVERRIDE_PROPERTY, path)
            System.load(path)
            loaded = true
        }
    }

    private fun locate(): String {
        System.getProperty(OVERRIDE_PROPERTY)?.let { return it }
        System.getProperty("securestore.library.path")?.let { return File(it).absolutePath }
        val resource = "native/${platformDirectory()}/${System.mapLibraryName("securestore")}"
        val url = NativeLibrary::class.java.classLoader.getResource(resource)
            ?: throw UnsatisfiedLinkError(
                "the SecureStore native library for ${platformDirectory()} is not bundled ($resource); " +
                    "set the system property securestore.library.path to its location",
            )
        if (url.protocol == "file") return File(url.toURI()).absolutePath
        val bytes = url.openStream().use { it.readBytes() }
        return extract(bytes).toString()
    }

    private fun extract(bytes: ByteArray): Path {
        val digest = sha256(bytes)
        val cache = cacheDirectory()
        val directory = cache.resolve(digest.take(32))
        createPrivateDirectories(directory)
        if (!privateToUser(directory, cache.parent.parent)) return extractFresh(bytes)
        val target = directory.resolve(System.mapLibraryName("securestore"))
        if (Files.isRegularFile(target) && sha256(Files.readAllBytes(target)) == digest) return target
        val temp = Files.createTempFile(directory, ".extract-", ".tmp")
        try {
            Files.write(temp, bytes)
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
        } finally {
            Files.deleteIfExists(temp)
        }
        return target
    }

    /**
     * Returns whether [directory] and its ancestors up to [top] belong to this user and are
     * writable by no one else, so no other user can swap the library between its hash check
     * and its load.
     */
    private fun privateToUser(directory: Path, top: Path): Boolean {
        if (!directory.fileSystem.supportedFileAttributeViews().contains("posix")) return true
        val user = System.getProperty("user.name")
        var current: Path? = directory
        while (current != null) {
            val attributes = Files.readAttributes(current, java.nio.file.attribute.PosixFileAttributes::class.java, java.nio.file.LinkOption.NOFOLLOW_LINKS)
            val othersWrite = attributes.permissions().any {
                it == java.nio.file.attribute.PosixFilePermission.GROUP_WRITE || it == java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE
            }
            if (!attributes.isDirectory || attributes.owner().name != user || othersWrite) return false
            if (current == top) return true
            current = current.parent
        }
        return true
    }

    /** Extracts into a new private temporary directory, for caches that other users can write. */
    private fun extractFresh(bytes: ByteArray): Path {
        val directory = Files.createTempDirectory("securestore-native-")
        val target = directory.resolve(System.mapLibraryName("securestore"))
        Files.write(target, bytes)
        target.toFile().deleteOnExit()
        directory.toFile().deleteOnExit()
        return target
    }

    /** Returns the per-user cache directory for extracted libraries. */
    private fun cacheDirectory(): Path {
        val home = System.getProperty("user.home")
        val os = System.getProperty("os.name").lowercase()
        val base = when {
            os.startsWith("windows") -> System.getenv("LOCALAPPDATA") ?: Paths.get(home, "AppData", "Local").toString()
            os.startsWith("mac") -> Paths.get(home, "Library", "Caches").toString()
            else -> System.getenv("XDG_CACHE_HOME")?.takeIf { it.isNotEmpty() } ?: Paths.get(home, ".cache").toString()
        }
        return Paths.get(base, "securestore", "native")
    }

    private fun createPrivateDirectories(directory: Path) {
        if (directory.fileSystem.supportedFileAttributeViews().contains("posix")) {
            val ownerOnly = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))
            var missing = directory
            val toCreate = ArrayDeque<Path>()
            while (!Files.exists(missing)) {
                toCreate.addFirst(missing)
                missing = missing.parent ?: break
            }
            for (path in toCreate) {
                try {
                    Files.createDirectory(path, ownerOnly)
                } catch (_: java.nio.file.FileAlreadyExistsException) {
                    // Another process created it first.
                }
            }
        } else {
            Files.createDirectories(directory)
        }
    }

    private fun sha256(bytes: ByteArray): String =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

    /** Names the platform as JNA does, for example `linux-x86-64` or `darwin-aarch64`. */
    private fun platformDirectory(): String {
        val os = System.getProperty("os.name").lowercase()
        val arch = when (val name = System.getProperty("os.arch").lowercase()) {
            "amd64", "x86_64" -> "x86-64"
            "arm64" -> "aarch64"
            else -> name
        }
        val osName = when {
            os.startsWith("linux") -> "linux"
            os.startsWith("mac") -> "darwin"
            os.startsWith("windows") -> "win32"
            else -> os
        }
        return "$osName-$arch"
    }
}
