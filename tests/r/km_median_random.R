# R fixture for tests/test_survival.py::test_median_ci_matches_r_on_random_data.
# Run: Rscript tests/r/km_median_random.R > tests/fixtures/km_median_random_r.txt
# 300 random data sets (tied times, heavy censoring, small and larger n), each with R's median and its
# CI under every conf.type; the data are written out so the test needs no R.
library(survival)
set.seed(20261201)
cat(sprintf("# R %s, survival %s\n", getRversion(), packageVersion("survival")))
for (k in 1:300) {
  n <- sample(c(3:12, 20, 40, 80), 1)
  time <- sample(1:sample(c(5, 15, 60), 1), n, replace = TRUE)
  status <- rbinom(n, 1, runif(1, 0.2, 0.95))
  cat(sprintf("data %d %s %s\n", k, paste(time, collapse = ","), paste(status, collapse = ",")))
  for (ct in c("log-log", "log", "plain")) {
    q <- quantile(survfit(Surv(time, status) ~ 1, conf.type = ct), probs = 0.5)
    cat(sprintf("median %d %s %.17g %.17g %.17g\n", k, ct, q$quantile, q$lower, q$upper))
  }
}
