package androidx.annotation

/**
 * Compile-time stand-in for androidx.annotation.RequiresApi, which the generated Android
 * bindings use and which is published only in Google's Maven repository. The Gradle build
 * uses the real annotation; this module's jar leaves this class out.
 */
@Retention(AnnotationRetention.BINARY)
@Target(
    AnnotationTarget.CLASS,
    AnnotationTarget.FUNCTION,
    AnnotationTarget.CONSTRUCTOR,
    AnnotationTarget.FIELD,
    AnnotationTarget.FILE,
)
annotation class RequiresApi(val value: Int = 1, val api: Int = 1)
