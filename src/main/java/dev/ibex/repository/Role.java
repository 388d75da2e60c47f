package dev.ibex.repository;

import dev.ibex.IbexException;
import java.util.Locale;

/** A db's role in a dbgroup, with Bucardo's aliases. */
public enum Role {
    SOURCE, TARGET, FULLCOPY;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** source|master|s|primary, target|slave|replica|rep|t, fullcopy|f; anything else is an error. */
    public static Role of(String word) {
        String w = word.trim().toLowerCase(Locale.ROOT);
        return switch (w) {
            case "source", "master", "s", "primary", "pri", "src" -> SOURCE;
            case "target", "slave", "replica", "rep", "t", "tgt" -> TARGET;
            case "fullcopy", "f", "full" -> FULLCOPY;
            default -> throw IbexException.badInput("Invalid role \"" + word
                    + "\": use source (master), target (slave, replica) or fullcopy");
        };
    }
}
