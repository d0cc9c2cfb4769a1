// Declares the plugins once, with the versions of gradle/libs.versions.toml, so every module
// uses the same ones.
plugins {
    alias(libs.plugins.kotlin.multiplatform) apply false
    alias(libs.plugins.kotlin.atomicfu) apply false
    alias(libs.plugins.android.library) apply false
    alias(libs.plugins.gobley.cargo) apply false
    alias(libs.plugins.gobley.uniffi) apply false
}
