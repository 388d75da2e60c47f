package dev.ibex.test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A generator of values from a {@link Random}: the few combinators the generated tests need (CliFuzzIT).
 * Everything a generator draws comes from the Random it is given, so one seed gives the same values.
 */
@FunctionalInterface
public interface Gen<T> {

    // the varargs methods read their arrays element by element and pass them nowhere (javac's varargs lint)

    /** How often {@link #filter} draws before it gives up. */
    int FILTER_TRIES = 10_000;

    T next(Random random);

    default <R> Gen<R> map(Function<? super T, ? extends R> f) {
        return r -> f.apply(next(r));
    }

    default <R> Gen<R> flatMap(Function<? super T, Gen<? extends R>> f) {
        return r -> f.apply(next(r)).next(r);
    }

    /** Draws again until a value passes. */
    default Gen<T> filter(Predicate<? super T> keep) {
        return r -> {
            for (int i = 0; i < FILTER_TRIES; i++) {
                T v = next(r);
                if (keep.test(v)) {
                    return v;
                }
            }
            throw new IllegalStateException("no value passed the filter in " + FILTER_TRIES + " draws");
        };
    }

    /** Always {@code value}. */
    static <T> Gen<T> constant(T value) {
        return r -> value;
    }

    /** One of the values, each alike. */
    @SafeVarargs
    static <T> Gen<T> of(T... values) {
        List<T> list = new ArrayList<>(values.length);
        for (T v : values) {
            list.add(v);
        }
        return of(list);
    }

    /** One of the values, each alike. */
    static <T> Gen<T> of(List<? extends T> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        List<T> copy = List.copyOf(values);
        return r -> copy.get(r.nextInt(copy.size()));
    }

    /** A value of one of the generators, each alike. */
    @SafeVarargs
    static <T> Gen<T> oneOf(Gen<? extends T>... gens) {
        List<Gen<? extends T>> list = new ArrayList<>(gens.length);
        for (Gen<? extends T> g : gens) {
            list.add(g);
        }
        return oneOf(list);
    }

    /** A value of one of the generators, each alike. */
    static <T> Gen<T> oneOf(List<? extends Gen<? extends T>> gens) {
        if (gens.isEmpty()) {
            throw new IllegalArgumentException("no generators");
        }
        List<Gen<? extends T>> copy = List.copyOf(gens);
        return r -> copy.get(r.nextInt(copy.size())).next(r);
    }

    /** A generator and its weight, for {@link #frequency}. */
    record Weighted<T>(int weight, Gen<? extends T> gen) {
        public Weighted {
            if (weight <= 0) {
                throw new IllegalArgumentException("weight " + weight);
            }
        }
    }

    static <T> Weighted<T> weight(int weight, Gen<? extends T> gen) {
        return new Weighted<>(weight, gen);
    }

    /** A value of one of the generators, chosen in proportion to their weights. */
    @SafeVarargs
    static <T> Gen<T> frequency(Weighted<? extends T>... choices) {
        List<Weighted<? extends T>> copy = new ArrayList<>(choices.length);
        for (Weighted<? extends T> c : choices) {
            copy.add(c);
        }
        int total = copy.stream().mapToInt(Weighted::weight).sum();
        return r -> {
            int pick = r.nextInt(total);
            for (Weighted<? extends T> w : copy) {
                pick -= w.weight();
                if (pick < 0) {
                    return w.gen().next(r);
                }
            }
            throw new AssertionError("unreachable");
        };
    }

    /** An int from {@code min} to {@code max}, both included, each alike. */
    static Gen<Integer> ints(int min, int max) {
        if (min > max) {
            throw new IllegalArgumentException(min + " > " + max);
        }
        return r -> min + r.nextInt(max - min + 1);
    }

    /** true or false. */
    static Gen<Boolean> booleans() {
        return Random::nextBoolean;
    }

    /**
     * Strings of {@code minLength} to {@code maxLength} chars (both included, each length alike), each char
     * one of {@code alphabet}'s, alike. The alphabet is taken char by char: a surrogate pair in it gives its
     * two halves, which may then stand alone.
     */
    static Gen<String> strings(String alphabet, int minLength, int maxLength) {
        if (alphabet.isEmpty() || minLength < 0 || minLength > maxLength) {
            throw new IllegalArgumentException("alphabet '" + alphabet + "', length " + minLength + ".." + maxLength);
        }
        char[] chars = alphabet.toCharArray();
        return ints(minLength, maxLength).flatMap(n -> r -> {
            char[] s = new char[n];
            for (int i = 0; i < n; i++) {
                s[i] = chars[r.nextInt(chars.length)];
            }
            return new String(s);
        });
    }

    /** The chars from {@code first} to {@code last}, both included, as an alphabet for {@link #strings}. */
    static String range(char first, char last) {
        StringBuilder sb = new StringBuilder();
        for (char c = first; c <= last; c++) {
            sb.append(c);
        }
        return sb.toString();
    }

    /** A list of {@code n} values, each drawn on its own. */
    static <T> Gen<List<T>> listOf(Gen<? extends T> gen, int n) {
        return r -> {
            List<T> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(gen.next(r));
            }
            return out;
        };
    }
}
