package dev.securestore.internal

import java.io.File
import java.nio.file.Files
import java.nio.file.StandardCopyOption

/**
 * Loads the Rust core once, for both of its callers: JNA (the generated bindings) and the
 * JVM's own JNI (the key provider bridge). Both must load the same file, or the bridge would
 * register providers in a second copy of the library that the bindings never see.
 *
 * The file is, in order: the path in the system property
 * `uniffi.component.securestore.libraryOverride`, the path in `securestore.library.path`,
 * or the library bundled as a resource under `native/<os>-<arch>/`, extracted to a
 * temporary file when it sits inside a jar.
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
        val extracted = Files.createTempFile("securestore-", "-" + System.mapLibraryName("securestore")).toFile()
        extracted.deleteOnExit()
        url.openStream().use { input -> Files.copy(input, extracted.toPath(), StandardCopyOption.REPLACE_EXISTING) }
        return extracted.absolutePath
    }

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
