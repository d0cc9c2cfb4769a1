package dev.securestore.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * A string-only stand-in for Android's {@code SharedPreferences} file, with the same disk
 * behaviour as {@code SharedPreferencesImpl} in AOSP:
 *
 * <ul>
 *   <li>Opening parses the whole XML file into a map; reads are map lookups.
 *   <li>{@link #commit} applies the changes to the map, then rewrites the whole file: it
 *       renames the current file to {@code <name>.bak} (or deletes it when a backup already
 *       exists), writes every entry as {@code <string name="..">..</string>} to a new file,
 *       fsyncs that file, closes it, and deletes the backup. The directory is not fsynced.
 *   <li>Opening restores {@code <name>.bak} over the file if a crash left one behind.
 * </ul>
 */
final class PreferencesFile {
    private final Path file;
    private final Path backup;
    private final Map<String, String> entries;

    private PreferencesFile(Path file, Map<String, String> entries) {
        this.file = file;
        this.backup = file.resolveSibling(file.getFileName() + ".bak");
        this.entries = entries;
    }

    /** Opens (or starts) the preferences file {@code file}, reading all of it. */
    static PreferencesFile open(Path file) throws IOException {
        Path backup = file.resolveSibling(file.getFileName() + ".bak");
        if (Files.exists(backup)) {
            Files.move(backup, file, StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, String> entries = new HashMap<>();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                SAXParserFactory.newInstance().newSAXParser().parse(in, new StringEntryHandler(entries));
            } catch (ParserConfigurationException | SAXException e) {
                throw new IOException("could not parse " + file, e);
            }
        }
        return new PreferencesFile(file, entries);
    }

    synchronized String get(String key) {
        return entries.get(key);
    }

    synchronized boolean contains(String key) {
        return entries.containsKey(key);
    }

    /** Applies {@code changes} (a {@code null} value removes the key) and rewrites the file durably. */
    synchronized void commit(Map<String, String> changes) throws IOException {
        for (Map.Entry<String, String> change : changes.entrySet()) {
            if (change.getValue() == null) {
                entries.remove(change.getKey());
            } else {
                entries.put(change.getKey(), change.getValue());
            }
        }
        if (Files.exists(file)) {
            if (Files.exists(backup)) {
                Files.delete(file);
            } else {
                Files.move(file, backup);
            }
        }
        byte[] xml = toXml(entries);
        try (FileOutputStream out = new FileOutputStream(file.toFile())) {
            out.write(xml);
            out.getFD().sync();
        }
        Files.deleteIfExists(backup);
    }

    private static byte[] toXml(Map<String, String> entries) {
        StringBuilder xml = new StringBuilder(64 + entries.size() * 96);
        xml.append("<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n");
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            xml.append("    <string name=\"");
            escape(entry.getKey(), xml);
            xml.append("\">");
            escape(entry.getValue(), xml);
            xml.append("</string>\n");
        }
        xml.append("</map>\n");
        return xml.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void escape(String text, StringBuilder out) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                default -> out.append(c);
            }
        }
    }

    /** Collects {@code <string name="..">..</string>} elements. */
    private static final class StringEntryHandler extends DefaultHandler {
        private final Map<String, String> entries;
        private String name;
        private StringBuilder text;

        StringEntryHandler(Map<String, String> entries) {
            this.entries = entries;
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes attributes) {
            if (qName.equals("string")) {
                name = attributes.getValue("name");
                text = new StringBuilder();
            }
        }

        @Override
        public void characters(char[] chars, int start, int length) {
            if (text != null) {
                text.append(chars, start, length);
            }
        }

        @Override
        public void endElement(String uri, String localName, String qName) {
            if (qName.equals("string") && name != null) {
                entries.put(name, text.toString());
                name = null;
                text = null;
            }
        }
    }
}
