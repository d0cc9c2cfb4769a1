// The Kotlin Multiplatform library as consumers and mobile CI build it. Gobley's Cargo plugin
// builds the Rust core for every target (jniLibs for Android, static libraries for Apple, the
// host's shared library for the desktop JVM) and its UniFFI plugin generates the Kotlin
// bindings into commonMain, jvmMain, androidMain and the Apple targets. pom.xml builds the
// same sources on machines without Gradle.
//
// NOTE: this file has not been run: the repository's build machine has no Gradle, no Android
// SDK and no macOS. It follows the DSL of Gobley 0.3.7, Kotlin 2.2.21 and AGP 8.11.

import gobley.gradle.GobleyHost
import gobley.gradle.cargo.dsl.appleMobile
import gobley.gradle.cargo.dsl.jvm
import gobley.gradle.rust.dsl.rustVersion
import org.jetbrains.kotlin.gradle.ExperimentalKotlinGradlePluginApi
import org.jetbrains.kotlin.gradle.dsl.JvmTarget
import org.jetbrains.kotlin.gradle.plugin.KotlinSourceSetTree

plugins {
    alias(libs.plugins.kotlin.multiplatform)
    alias(libs.plugins.kotlin.atomicfu)
    alias(libs.plugins.android.library)
    alias(libs.plugins.gobley.cargo)
    alias(libs.plugins.gobley.uniffi)
}

cargo {
    // The crate is beside this module; its Cargo workspace is the repository root.
    packageDirectory = layout.projectDirectory.dir("../rust-core")

    builds.jvm {
        // The desktop jar carries the library of the machine that builds it; other desktop
        // platforms load theirs from the system property securestore.library.path.
        embedRustLibrary = (rustTarget == GobleyHost.current.rustTarget)
        // NativeLibrary (jvmMain) looks for the library under native/<JNA platform name>/.
        resourcePrefix = "native/${rustTarget.jnaResourcePrefix}"
    }

    builds.appleMobile {
        variants {
            // tvOS targets are tier 3 in Rust: they have no prebuilt standard library, so
            // nightly Cargo builds it from source.
            if (rustTarget.tier(project.rustVersion.get()) >= 3) {
                buildTaskProvider.configure {
                    nightly = true
                    extraArguments.add("-Zbuild-std")
                }
                checkTaskProvider.configure {
                    nightly = true
                    extraArguments.add("-Zbuild-std")
                }
            }
        }
    }
}

uniffi {
    // Library mode, as scripts build it: the bindings come from the metadata in the built core.
    generateFromLibrary {
        namespace = "securestore"
    }
}

kotlin {
    jvmToolchain(17)

    // commonMain <- jvmCommonMain <- {jvmMain, androidMain}: jvmCommonMain holds the JNI key
    // provider bridge that the desktop JVM and Android share. The Apple targets get the
    // default groups (appleMain, iosMain, tvosMain).
    @OptIn(ExperimentalKotlinGradlePluginApi::class)
    applyDefaultHierarchyTemplate {
        common {
            group("jvmCommon") {
                withJvm()
                withAndroidTarget()
            }
        }
    }

    jvm()

    androidTarget {
        publishLibraryVariants("release")
        compilerOptions {
            jvmTarget = JvmTarget.JVM_17
        }
        // Instrumented tests include commonTest, so the shared contract suite runs on devices.
        @OptIn(ExperimentalKotlinGradlePluginApi::class)
        instrumentedTestVariant.sourceSetTree.set(KotlinSourceSetTree.test)
    }

    // The Apple targets share appleMain (the Keychain store) through the default hierarchy.
    iosArm64()
    iosSimulatorArm64()
    iosX64()
    tvosArm64()
    tvosSimulatorArm64()

    sourceSets {
        commonMain.dependencies {
            implementation(libs.kotlinx.coroutines.core)
            implementation(libs.kotlinx.atomicfu)
        }
        commonTest.dependencies {
            implementation(kotlin("test"))
            implementation(libs.kotlinx.coroutines.test)
        }
        jvmMain.dependencies {
            implementation(libs.jna)
        }
        // Gobley adds net.java.dev.jna:jna@aar (with Android's libjnidispatch.so) and
        // androidx.annotation to androidMain itself.
        getByName("androidInstrumentedTest").dependencies {
            implementation(libs.androidx.test.runner)
        }
    }
}

android {
    namespace = "dev.securestore"
    compileSdk = libs.versions.android.compileSdk.get().toInt()

    defaultConfig {
        minSdk = libs.versions.android.minSdk.get().toInt()
        consumerProguardFiles("consumer-rules.pro")
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        // The ABIs the Rust core is built for; Gobley reads this list.
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

tasks.named<Test>("jvmTest") {
    useJUnitPlatform()
}
