// The Gradle build that consumers and mobile CI use. It is not run on the repository's Linux
// build machine, which has no Gradle and no Android SDK; there pom.xml is the build of record.
rootProject.name = "securestore"

pluginManagement {
    repositories {
        google()
        // The Gobley plugins (dev.gobley.*) are published to Maven Central.
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode = RepositoriesMode.FAIL_ON_PROJECT_REPOS
    repositories {
        // The Android Gradle plugin's dependencies, androidx.annotation (used by the generated
        // Android bindings) and androidx.test.
        google()
        mavenCentral()
    }
}

include(":kmp")
