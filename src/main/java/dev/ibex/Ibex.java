package dev.ibex;

import dev.ibex.cli.IbexCommand;

/** The `ibex` program. */
public final class Ibex {

    private Ibex() {
    }

    public static void main(String[] args) {
        System.exit(IbexCommand.run(args));
    }
}
