package androidx.test.platform.app

import android.app.Instrumentation

/**
 * Compile-time stand-in for androidx.test's InstrumentationRegistry (Google's Maven
 * repository only), with the one method the instrumented tests call. On a device the real
 * class from androidx.test:runner is used; calling this one fails.
 */
object InstrumentationRegistry {
    @JvmStatic
    fun getInstrumentation(): Instrumentation =
        throw UnsupportedOperationException("instrumented tests run only on an Android device or emulator")
}
