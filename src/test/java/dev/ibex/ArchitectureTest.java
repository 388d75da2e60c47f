package dev.ibex;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages' layers: calls go down from cli, never up, and no two packages depend on each other.
 * cli parses, calls and prints; controller runs the daemon; demo drives the CLI it is given; status
 * reads what ibex status shows and the controller's Prometheus endpoint serves (the controller
 * words its durations with it); replicate and migrate
 * do the work; capture installs the triggers; pg, repository and config are the base. The root
 * package (main class, IbexException, ExitCode, Json) is outside the layers.
 */
class ArchitectureTest {

    private static JavaClasses main;

    @BeforeAll
    static void importMain() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.ibex");
    }

    @Test
    void callsGoDownTheLayers() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("cli").definedBy("dev.ibex.cli..")
                .layer("controller").definedBy("dev.ibex.controller..")
                .layer("demo").definedBy("dev.ibex.demo..")
                .layer("status").definedBy("dev.ibex.status..")
                .layer("replicate").definedBy("dev.ibex.replicate..")
                .layer("migrate").definedBy("dev.ibex.migrate..")
                .layer("capture").definedBy("dev.ibex.capture..")
                .layer("base").definedBy("dev.ibex.pg..", "dev.ibex.repository..", "dev.ibex.config..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("controller").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("demo").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("status").mayOnlyBeAccessedByLayers("cli", "controller")
                .whereLayer("migrate").mayOnlyBeAccessedByLayers("cli", "controller")
                .whereLayer("replicate").mayOnlyBeAccessedByLayers("cli", "controller", "status", "migrate")
                .whereLayer("capture")
                .mayOnlyBeAccessedByLayers("cli", "controller", "status", "migrate", "replicate")
                .check(main);
    }

    /** Also within the base layer: pg must not reach back into repository or config. */
    @Test
    void noPackageCycles() {
        slices().matching("dev.ibex.(*)..").should().beFreeOfCycles().check(main);
    }
}
