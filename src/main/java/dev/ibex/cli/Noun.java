package dev.ibex.cli;

import dev.ibex.IbexException;
import java.util.Locale;

/** The object a verb works on, in any of Bucardo's spellings (db, databases, herd, syncs ...). */
enum Noun {
    DB("database"), DBGROUP("dbgroup"), RELGROUP("relgroup"), SYNC("sync"), TABLE("table"), SEQUENCE("sequence"),
    ALL("all");

    final String word;

    Noun(String word) {
        this.word = word;
    }

    static Noun of(String word, String verb) {
        String w = word.toLowerCase(Locale.ROOT);
        if (w.matches("dbg.*|d\\w*group.*")) {
            return DBGROUP;
        }
        if (w.matches("dbs?|database.*")) {
            return DB;
        }
        if (w.matches("relgr.*|herds?")) {
            return RELGROUP;
        }
        if (w.matches("s[yi]n[ck]s?")) {
            return SYNC;
        }
        if (w.startsWith("tab")) {
            return TABLE;
        }
        if (w.startsWith("seq")) {
            return SEQUENCE;
        }
        if (w.equals("all")) {
            return ALL;
        }
        throw IbexException.badInput("Unknown object \"" + word + "\" for 'ibex " + verb
                + "': use db, table, sequence, relgroup (herd), dbgroup or sync" + (verb.equals("list") ? " (or all)" : ""));
    }
}
