# R fixture for tests/test_regression.py and tests/test_table_one.py: the GBSG2 example's Cox models and Table 1 tests.
# Run: Rscript tests/r/gbsg2_comparative.R > tests/fixtures/gbsg2_comparative_r.txt
library(survival)
d <- read.csv("examples/gbsg2/data/gbsg2.csv")
d$time <- d$time / 30.4375
d$horTh <- factor(d$horTh, levels = c("no", "yes"))
d$menostat <- factor(d$menostat, levels = c("Pre", "Post"))
d$tgrade <- factor(d$tgrade, levels = c("I", "II", "III"))
cat(sprintf("# R %s, survival %s\n", getRversion(), packageVersion("survival")))
f <- coxph(Surv(time, cens) ~ horTh + age + menostat + tsize + tgrade + pnodes + progrec + estrec, data = d)
s <- summary(f)$coefficients
for (i in seq_len(nrow(s))) cat(sprintf("multi %s %.17g %.17g %.17g\n", rownames(s)[i], s[i, 1], s[i, 3], s[i, 5]))
z <- cox.zph(f, transform = "km", terms = FALSE)$table
for (i in seq_len(nrow(z))) cat(sprintf("ph %s %.17g %.17g\n", rownames(z)[i], z[i, 1], z[i, 3]))
u <- summary(coxph(Surv(time, cens) ~ horTh, data = d))$coefficients
cat(sprintf("uni horThyes %.17g %.17g %.17g\n", u[1, 1], u[1, 3], u[1, 5]))
for (v in c("age", "tsize", "pnodes", "progrec", "estrec")) cat(sprintf("p %s %.17g\n", v, wilcox.test(d[[v]] ~ d$horTh)$p.value))
for (v in c("menostat", "tgrade")) cat(sprintf("p %s %.17g\n", v, chisq.test(table(d[[v]], d$horTh), correct = FALSE)$p.value))
g <- summary(glm(cens ~ horTh + age + tgrade, family = binomial, data = d))$coefficients
for (i in seq_len(nrow(g))) cat(sprintf("logit %s %.17g %.17g %.17g\n", rownames(g)[i], g[i, 1], g[i, 2], g[i, 4]))
