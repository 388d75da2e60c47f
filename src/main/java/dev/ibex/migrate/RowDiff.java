package dev.ibex.migrate;

import java.util.List;

/** One row that differs between the source and a target, by its key values (as text). */
public record RowDiff(Kind kind, List<String> key) {

    public enum Kind {
        MISSING("missing on target"), EXTRA("extra on target"), CHANGED("changed on target");

        private final String words;

        Kind(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    public String describe(List<String> keyColumns) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(keyColumns.get(i)).append('=').append(key.get(i));
        }
        return sb.toString();
    }
}
