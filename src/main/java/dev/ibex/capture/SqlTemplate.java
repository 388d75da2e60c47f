package dev.ibex.capture;

import dev.ibex.repository.SqlFiles;
import java.util.Map;

/** A file under sql/ with {{name}} placeholders, filled in with already quoted identifiers. */
final class SqlTemplate {

    private final String file;
    private final String text;

    SqlTemplate(String file) {
        this.file = file;
        this.text = SqlFiles.read(file);
    }

    String fill(Map<String, String> values) {
        String out = text;
        for (Map.Entry<String, String> v : values.entrySet()) {
            out = out.replace("{{" + v.getKey() + "}}", v.getValue());
        }
        int left = out.indexOf("{{");
        if (left >= 0) {
            throw new IllegalStateException(file + ": no value for " + out.substring(left, out.indexOf("}}", left) + 2));
        }
        return out;
    }

    String text() {
        return text;
    }
}
