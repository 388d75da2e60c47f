package dev.ibex.status;

import dev.ibex.Json;
import dev.ibex.repository.RunLog;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The three forms of `ibex status`: Bucardo's table of all syncs, Bucardo's block per named sync,
 * and JSON for scripts (field names documented in README.md, "Status JSON").
 */
public final class StatusReport {

    private static final String RULE = "=".repeat(70);

    private final Optional<? extends ControllerInfo> controller;
    /** Every running controller, the first started first; one, or none, as a rule. */
    private final List<? extends ControllerInfo> controllers;
    private final List<SyncStatus> syncs;
    private final ZoneId zone;

    public StatusReport(Optional<? extends ControllerInfo> controller, List<SyncStatus> syncs, ZoneId zone) {
        this(controller.stream().toList(), syncs, zone);
    }

    public StatusReport(List<? extends ControllerInfo> controllers, List<SyncStatus> syncs, ZoneId zone) {
        this.controllers = controllers;
        this.controller = controllers.stream().findFirst();
        this.syncs = syncs;
        this.zone = zone;
    }

    /** One line per running controller; with several, each says which syncs it runs. */
    public String controllerLine() {
        if (controllers.isEmpty()) {
            return "The ibex controller is not running";
        }
        List<String> lines = new ArrayList<>();
        for (ControllerInfo c : controllers) {
            lines.add("PID of ibex controller: " + c.pid() + " on host " + c.host() + " (up "
                    + Durations.age(c.uptime()) + ")" + (controllers.size() == 1 ? ""
                    : ", syncs: " + (c.syncs().isEmpty() ? "none" : String.join(", ", c.syncs()))));
        }
        return String.join("\n", lines);
    }

    /** The controller that holds the sync; a lone controller runs them all. */
    private Optional<? extends ControllerInfo> holder(String sync) {
        Optional<? extends ControllerInfo> claimed = controllers.stream().filter(c -> c.syncs().contains(sync))
                .findFirst();
        return claimed.isPresent() || controllers.size() != 1 ? claimed : controller;
    }

    // ---- the table ----------------------------------------------------------------------------

    public String table() {
        StringBuilder out = new StringBuilder(controllerLine()).append('\n');
        if (syncs.isEmpty()) {
            return out.append("No syncs have been created yet.\n").toString();
        }
        boolean truncates = syncs.stream().anyMatch(s -> s.lastGood() != null && s.lastGood().truncates() > 0);
        String[] headers = {"Name", "State", "Last good", "Time", truncates ? "Last I/D/T" : "Last I/D", "Last bad",
            "Time"};
        List<String[]> rows = new ArrayList<>();
        for (SyncStatus s : syncs) {
            rows.add(row(s, truncates));
        }
        int[] width = widths(headers, rows);
        List<String> head = new ArrayList<>();
        List<String> rule = new ArrayList<>();
        for (int i = 0; i < headers.length; i++) {
            head.add(pad(" " + headers[i], width[i]));
            rule.add("=".repeat(width[i]));
        }
        out.append(String.join(" ", head).stripTrailing()).append('\n');
        out.append(String.join("+", rule)).append('\n');
        for (String[] r : rows) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < r.length; i++) {
                cells.add(pad(" " + r[i], width[i]));
            }
            out.append(String.join("|", cells).stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private String[] row(SyncStatus s, boolean truncates) {
        RunLog.Entry good = s.lastGood();
        RunLog.Entry bad = s.lastBad();
        return new String[] {
            s.name(),
            s.stateText(),
            good == null ? "none" : Durations.when(good.ended(), s.now(), zone),
            good == null ? "" : Durations.age(Duration.between(good.ended(), s.now())),
            good == null ? "" : good.deletes() + "/" + good.inserts() + (truncates ? "/" + good.truncates() : ""),
            bad == null ? "none" : Durations.when(bad.ended(), s.now(), zone),
            bad == null ? "" : Durations.age(Duration.between(bad.ended(), s.now())),
        };
    }

    /** Bucardo's widths: the longest cell, the header counted one longer, plus two. */
    private static int[] widths(String[] headers, List<String[]> rows) {
        int[] width = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            width[i] = headers[i].length() + 1;
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
            width[i] += 2;
        }
        return width;
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    // ---- one block per sync -------------------------------------------------------------------

    public String details() {
        StringBuilder out = new StringBuilder(controllerLine()).append('\n');
        for (SyncStatus s : syncs) {
            Map<String, String> lines = detailLines(s);
            int w = lines.keySet().stream().mapToInt(String::length).max().orElse(0);
            out.append(RULE).append('\n');
            lines.forEach((k, v) -> out.append(pad(k, w)).append(" : ").append(v).append('\n'));
            out.append(RULE).append('\n');
        }
        return out.toString();
    }

    /** Bucardo's lines of one sync, in Bucardo's order, and ibex's after them. */
    private Map<String, String> detailLines(SyncStatus s) {
        Map<String, String> lines = new LinkedHashMap<>();
        RunLog.Entry good = s.lastGood();
        RunLog.Entry bad = s.lastBad();
        String t = good != null && good.truncates() > 0 ? "/truncates" : "";
        lines.put("Last good", good == null ? "none" : Durations.when(good.started(), s.now(), zone)
                + " (time to run: " + Durations.age(good.took()) + ")");
        lines.put("Rows deleted/inserted" + t, good == null ? "none" : good.deletes() + " / " + good.inserts()
                + (t.isEmpty() ? "" : " / " + good.truncates()));
        if (s.sources().size() > 1) {
            lines.put("Conflicts in last run", good == null ? "none" : Long.toString(good.conflicts()));
        }
        lines.put("Last bad", bad == null ? "none" : Durations.when(bad.started(), s.now(), zone)
                + " (time until fail: " + Durations.age(bad.took()) + ")");
        lines.put("Sync name", s.name());
        lines.put("Current state", s.running() == null || s.running().detail() == null ? s.stateText()
                : s.stateText() + " (" + s.running().detail() + ")");
        lines.put("Source relgroup/database", s.relgroup() + " / " + String.join(", ", s.sources()));
        lines.put("Target databases", s.targets().isEmpty() ? "none" : String.join(", ", s.targets()));
        lines.put("Tables in sync", Integer.toString(s.tables()));
        lines.put("Status", s.statusText());
        lines.put("Check time", s.checktime() == null ? "None" : Durations.age(Duration.ofSeconds(s.checktime())));
        lines.put("Stayalive/Kidsalive", yes(s.stayalive()) + " / " + yes(s.kidsalive()));
        lines.put("Autokick", yes(s.autokick()));
        lines.put("Onetimecopy", s.onetimecopy().text());
        lines.put("Backlog", s.backlog() == null ? "unknown" : s.backlog() + " change(s)");
        lines.put("Lag", s.lag() == null ? "unknown" : Durations.age(s.lag()));
        lines.put("Trigger suppression", s.suppression().isEmpty() ? "not known yet (a good run records it)"
                : String.join(", ", s.suppression().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue())
                        .toList()));
        lines.put("Controller", holder(s.name()).map(ControllerInfo::describe)
                .orElse(controllers.isEmpty() ? "not running" : "none yet (not claimed)"));
        if (bad != null && bad.error() != null) {
            lines.put("Last error", bad.error());
        }
        if (s.needsAttention()) {
            lines.put("Fix", s.fix());
        }
        return lines;
    }

    private static String yes(boolean b) {
        return b ? "Yes" : "No";
    }

    // ---- JSON ---------------------------------------------------------------------------------

    public String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("running", controller.isPresent());
        c.put("pid", controller.map(ControllerInfo::pid).orElse(null));
        c.put("host", controller.map(ControllerInfo::host).orElse(null));
        c.put("started", controller.map(ControllerInfo::started).orElse(null));
        c.put("uptime_seconds", controller.map(r -> r.uptime().getSeconds()).orElse(null));
        root.put("controller", c);
        List<Object> all = new ArrayList<>();
        for (ControllerInfo r : controllers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.id());
            m.put("pid", r.pid());
            m.put("host", r.host());
            m.put("started", r.started());
            m.put("uptime_seconds", r.uptime().getSeconds());
            m.put("syncs", r.syncs());
            all.add(m);
        }
        root.put("controllers", all);
        root.put("syncs", syncs.stream().map(this::syncJson).toList());
        return Json.pretty(root) + "\n";
    }

    /** One sync's object: the README's "Status JSON" names, in this order. */
    private Map<String, Object> syncJson(SyncStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("state", s.state());
        m.put("status", s.statusText().toLowerCase(Locale.ROOT));
        m.put("needs_attention", s.needsAttention());
        m.put("fix", s.fix());
        m.put("controller", holder(s.name()).map(r -> {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("id", r.id());
            h.put("pid", r.pid());
            h.put("host", r.host());
            return h;
        }).orElse(null));
        m.put("relgroup", s.relgroup());
        m.put("dbgroup", s.dbgroup());
        m.put("sources", s.sources());
        m.put("targets", s.targets());
        m.put("tables", s.tables());
        m.put("checktime_seconds", s.checktime());
        m.put("stayalive", s.stayalive());
        m.put("kidsalive", s.kidsalive());
        m.put("autokick", s.autokick());
        m.put("onetimecopy", s.onetimecopy().code());
        m.put("running", s.running() == null ? null : run(s.running(), s));
        m.put("last_good", s.lastGood() == null ? null : run(s.lastGood(), s));
        m.put("last_bad", s.lastBad() == null ? null : run(s.lastBad(), s));
        m.put("backlog", s.backlog());
        m.put("lag_seconds", s.lag() == null ? null : s.lag().getSeconds());
        m.put("suppression", s.suppression());
        return m;
    }

    private static Map<String, Object> run(RunLog.Entry r, SyncStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("state", r.state().sql());
        m.put("started", r.started());
        m.put("ended", r.ended());
        m.put("seconds", r.ended() == null ? Duration.between(r.started(), s.now()).toMillis() / 1000.0
                : r.took().toMillis() / 1000.0);
        m.put("deletes", r.deletes());
        m.put("inserts", r.inserts());
        m.put("truncates", r.truncates());
        m.put("conflicts", r.conflicts());
        m.put("detail", r.detail());
        m.put("error", r.error());
        m.put("sqlstate", r.sqlstate());
        return m;
    }
}
