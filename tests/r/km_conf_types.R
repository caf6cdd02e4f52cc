# R fixture for tests/test_survival.py::test_ci_transforms_match_r (papergen.survival conf_type).
# Run: Rscript tests/r/km_conf_types.R > tests/fixtures/km_conf_types_r.txt
# Data: survival::aml (Embury et al.; shipped with R's survival package), written out below so the
# test needs no R. Output: one line per (group, conf.type, time): S, lower, upper; and the median CI.
library(survival)
d <- survival::aml
cat(sprintf("# R %s, survival %s\n", getRversion(), packageVersion("survival")))
for (g in c("Maintained", "Nonmaintained", "all")) {
  dd <- if (g == "all") d else d[d$x == g, ]
  cat(sprintf("data %s time %s\n", g, paste(dd$time, collapse = ",")))
  cat(sprintf("data %s status %s\n", g, paste(dd$status, collapse = ",")))
  for (ct in c("log-log", "log", "plain")) {
    fit <- survfit(Surv(time, status) ~ 1, data = dd, conf.type = ct)
    s <- summary(fit, times = c(5, 9, 13, 18, 23, 30, 45))
    for (i in seq_along(s$time)) {
      cat(sprintf("surv %s %s %g %.17g %.17g %.17g\n", g, ct, s$time[i], s$surv[i], s$lower[i], s$upper[i]))
    }
    q <- quantile(fit, probs = 0.5)
    cat(sprintf("median %s %s %.17g %.17g %.17g\n", g, ct, q$quantile, q$lower, q$upper))
  }
}
