package dev.ibex.controller;

import dev.ibex.IbexException;
import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Sync names as Bucardo's sync-taking verbs accept them: names, {@code all}, wildcards {@code *}
 * and {@code %}, and the noise word {@code sync}. A name that matches nothing is an error.
 */
public final class SyncSelector {

    private SyncSelector() {
    }

    /** The chosen syncs, in the order the words name them; every word must match a sync. */
    public static List<Sync> select(Repository repo, List<String> words) {
        List<Sync> all = repo.syncs();
        Set<Sync> chosen = new LinkedHashSet<>();
        boolean named = false;
        for (String word : words) {
            if (word.equalsIgnoreCase("sync") || word.equalsIgnoreCase("syncs")) {
                continue;
            }
            named = true;
            if (word.equalsIgnoreCase("all")) {
                chosen.addAll(all);
                continue;
            }
            List<Sync> matched = matching(all, word);
            if (matched.isEmpty()) {
                throw IbexException.badInput("No sync named \"" + word + "\": see 'ibex list syncs'");
            }
            chosen.addAll(matched);
        }
        if (!named && !words.isEmpty()) {
            // Only the noise word (Bucardo's "kick sync 0" with the name left out): choosing nothing would
            // kick, activate or pause nothing and still exit 0, which reads as done.
            throw IbexException.badInput("No sync named after \"" + words.get(0) + "\": give its name, as in "
                    + "'sync shop', or all (see 'ibex list syncs')");
        }
        return new ArrayList<>(chosen);
    }

    private static List<Sync> matching(List<Sync> all, String word) {
        if (!word.contains("*") && !word.contains("%")) {
            return all.stream().filter(s -> s.name().equals(word)).toList();
        }
        StringBuilder regex = new StringBuilder();
        for (char ch : word.toCharArray()) {
            regex.append(ch == '*' || ch == '%' ? ".*" : Pattern.quote(String.valueOf(ch)));
        }
        Pattern p = Pattern.compile(regex.toString());
        return all.stream().filter(s -> p.matcher(s.name()).matches()).toList();
    }
}
