package dev.ibex.controller;

import dev.ibex.pg.PgErrors;
import java.time.Duration;
import java.util.Properties;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.TriggerBuilder;
import org.quartz.impl.StdSchedulerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The controller's periodic duties on Quartz: checktime kicks, delta purge, run-history trimming. */
final class Duties implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Duties.class);

    private final Scheduler scheduler;

    Duties() {
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", "ibex-duties");
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        p.setProperty("org.quartz.threadPool.threadCount", "2");
        p.setProperty("org.quartz.threadPool.threadNamePrefix", "ibex-duty");
        p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
        try {
            scheduler = new StdSchedulerFactory(p).getScheduler();
            scheduler.start();
        } catch (SchedulerException e) {
            throw new IllegalStateException("Quartz would not start", e);
        }
    }

    /** Runs {@code duty} every {@code interval}, the first time one interval from now; replaces a duty of that name. */
    void every(String name, Duration interval, Runnable duty) {
        cancel(name);
        JobDataMap data = new JobDataMap();
        data.put("duty", duty);
        data.put("name", name);
        var job = JobBuilder.newJob(DutyJob.class).withIdentity(name).usingJobData(data).build();
        var trigger = TriggerBuilder.newTrigger().withIdentity(name)
                .startAt(new java.util.Date(System.currentTimeMillis() + interval.toMillis()))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule()
                        .withIntervalInMilliseconds(Math.max(1, interval.toMillis())).repeatForever()
                        .withMisfireHandlingInstructionNextWithRemainingCount())
                .build();
        try {
            scheduler.scheduleJob(job, trigger);
        } catch (SchedulerException e) {
            throw new IllegalStateException("Cannot schedule " + name, e);
        }
    }

    void cancel(String name) {
        try {
            scheduler.deleteJob(JobKey.jobKey(name));
        } catch (SchedulerException e) {
            log.warn("Cannot cancel duty {}: {}", name, e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            scheduler.shutdown(true);
        } catch (SchedulerException e) {
            log.warn("Quartz did not shut down cleanly: {}", e.getMessage());
        }
    }

    /** Quartz instantiates this per firing; the duty itself travels in the job data. */
    @DisallowConcurrentExecution
    public static final class DutyJob implements Job {
        @Override
        public void execute(JobExecutionContext context) {
            Runnable duty = (Runnable) context.getMergedJobDataMap().get("duty");
            try {
                duty.run();
            } catch (RuntimeException e) {
                log.warn("Duty {} failed: {}", context.getMergedJobDataMap().get("name"), PgErrors.describe(e));
            }
        }
    }
}
