package dev.securestore.internal

/**
 * Loads the Rust core with `System.loadLibrary("securestore")`, which registers the JNI
 * functions of [NativeKeyProviders]. The generated bindings then open the same
 * `libsecurestore.so` through JNA by the name "securestore", and the dynamic linker returns
 * the copy already loaded, so the store uses the key providers that JNI registered.
 */
internal object AndroidNativeLibrary {
    private const val LIBRARY_NAME = "securestore"

    private val loaded: Unit by lazy { System.loadLibrary(LIBRARY_NAME) }

    fun ensureLoaded() {
        loaded
    }
}
