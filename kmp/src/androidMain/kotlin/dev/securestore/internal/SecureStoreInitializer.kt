package dev.securestore.internal

import android.content.ContentProvider
import android.content.ContentValues
import android.database.Cursor
import android.net.Uri
import dev.securestore.AndroidSecureStore

/**
 * Gives the library the application context at app start. Android creates the providers of
 * the merged manifest before `Application.onCreate`, so `SecureStore()` works from then on
 * without app code. It serves no data: every query and change returns nothing.
 */
internal class SecureStoreInitializer : ContentProvider() {
    override fun onCreate(): Boolean {
        context?.let(AndroidSecureStore::init)
        return true
    }

    override fun query(
        uri: Uri,
        projection: Array<out String>?,
        selection: String?,
        selectionArgs: Array<out String>?,
        sortOrder: String?,
    ): Cursor? = null

    override fun getType(uri: Uri): String? = null

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = 0

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int = 0
}
