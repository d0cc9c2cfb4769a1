package dev.securestore

import kotlinx.coroutines.CoroutineDispatcher

/** The dispatcher suspend operations run on: a pool for blocking I/O. */
internal expect val storeDispatcher: CoroutineDispatcher
