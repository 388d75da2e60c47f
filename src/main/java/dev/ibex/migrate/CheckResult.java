package dev.ibex.migrate;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of `ibex validate`. The JSON field names (sync, check, status, detail, fix) are a
 * documented interface for scripts: do not rename them.
 *
 * @param fix what to do about it, null when the check passed
 */
public record CheckResult(String sync, String check, CheckStatus status, String detail, String fix) {

    public static CheckResult pass(String sync, String check, String detail) {
        return new CheckResult(sync, check, CheckStatus.PASS, detail, null);
    }

    public static CheckResult warn(String sync, String check, String detail, String fix) {
        return new CheckResult(sync, check, CheckStatus.WARN, detail, fix);
    }

    public static CheckResult fail(String sync, String check, String detail, String fix) {
        return new CheckResult(sync, check, CheckStatus.FAIL, detail, fix);
    }

    /** PASS|WARN|FAIL, the check, the detail and, when there is one, the fix. */
    public String line(int checkWidth) {
        String text = detail + (fix == null ? "" : "; fix: " + fix);
        return String.format("%-4s  %-" + checkWidth + "s  %s", status, check, text);
    }

    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sync", sync);
        m.put("check", check);
        m.put("status", status.name());
        m.put("detail", detail);
        m.put("fix", fix);
        return m;
    }
}
