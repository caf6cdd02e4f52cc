# R's answers for tests/test_models.py: writes tests/fixtures/models_r.json.
#
#   Rscript tests/r/make_models_fixture.R        (from the repository root)
#
# Needs R >= 4.0 with survival >= 3.0 (cox.zph changed in 3.0) and MASS (for
# ginv, tableone's categorical SMD).  Reads the committed data files:
#   examples/gbsg2/data/gbsg2.csv          GBSG2 (as lifelines ships it)
#   tests/fixtures/models_ties.csv         24 hand-made rows with tied times
# and first writes survival's own lung and veteran data sets to
#   tests/fixtures/lung.csv, tests/fixtures/veteran.csv
# so the tests (and CI, which has no R) read exactly the rows fitted here.
# Every number is written with 17 significant digits; no JSON package needed.
# The covariate columns ("designs") are built the same way by design() in tests/test_models.py.

suppressPackageStartupMessages({ library(survival); library(MASS) })
stopifnot(packageVersion("survival") >= "3.0")
if (!file.exists("examples/gbsg2/data/gbsg2.csv")) stop("run from the repository root")

write.csv(survival::lung, "tests/fixtures/lung.csv", row.names = FALSE)
write.csv(survival::veteran, "tests/fixtures/veteran.csv", row.names = FALSE)

# ---- a tiny JSON writer ------------------------------------------------------
arr <- function(x) structure(list(x), class = "jsarray")     # always a JSON array, even of length 1
scalar <- function(v) {
  if (is.character(v)) return(sprintf('"%s"', gsub('"', '\\\\"', v)))
  if (is.logical(v)) return(if (is.na(v)) "null" else tolower(as.character(v)))
  v <- as.double(v)
  if (is.nan(v) || is.na(v)) return("NaN")
  if (is.infinite(v)) return(if (v > 0) "Infinity" else "-Infinity")
  sprintf("%.17g", v)
}
js <- function(x) {
  if (is.null(x)) return("null")
  if (inherits(x, "jsarray")) return(paste0("[", paste(vapply(x[[1]], scalar, ""), collapse = ", "), "]"))
  if (is.matrix(x)) return(js(lapply(seq_len(nrow(x)), function(i) arr(x[i, ]))))
  if (is.list(x)) {
    inner <- vapply(x, js, "")
    if (!is.null(names(x))) return(paste0("{", paste0('"', names(x), '": ', inner, collapse = ", "), "}"))
    return(paste0("[", paste(inner, collapse = ", "), "]"))
  }
  if (length(x) != 1) return(js(arr(x)))
  scalar(x)
}

# ---- data and designs (the same columns as design() in tests/test_models.py) ---
gbsg2 <- read.csv("examples/gbsg2/data/gbsg2.csv")
lung <- read.csv("tests/fixtures/lung.csv")
veteran <- read.csv("tests/fixtures/veteran.csv")
ties <- read.csv("tests/fixtures/models_ties.csv")

outcome <- list(
  gbsg2 = function() list(time = gbsg2$time, event = gbsg2$cens, rows = rep(TRUE, nrow(gbsg2))),
  lung = function(cols) {
    ok <- complete.cases(lung[, c("time", "status", cols)])
    list(time = lung$time[ok], event = lung$status[ok] - 1, rows = ok)
  },
  veteran = function() list(time = veteran$time, event = veteran$status, rows = rep(TRUE, nrow(veteran))),
  ties = function() list(time = ties$time, event = ties$status, rows = rep(TRUE, nrow(ties)))
)

designs <- list(
  gbsg2_full = function() with(gbsg2, data.frame(
    horThyes = as.numeric(horTh == "yes"), age = age, menostatPost = as.numeric(menostat == "Post"),
    tsize = tsize, tgradeII = as.numeric(tgrade == "II"), tgradeIII = as.numeric(tgrade == "III"),
    pnodes = pnodes, progrec = progrec, estrec = estrec, check.names = FALSE)),
  # the ordered-factor coding of HSAUR2 (contr.poly): tgrade.L, tgrade.Q
  gbsg2_poly = function() with(gbsg2, data.frame(
    horThyes = as.numeric(horTh == "yes"), age = age, menostatPost = as.numeric(menostat == "Post"),
    tsize = tsize,
    tgrade.L = contr.poly(3)[match(tgrade, c("I", "II", "III")), 1],
    tgrade.Q = contr.poly(3)[match(tgrade, c("I", "II", "III")), 2],
    pnodes = pnodes, progrec = progrec, estrec = estrec, check.names = FALSE)),
  gbsg2_horTh = function() data.frame(horThyes = as.numeric(gbsg2$horTh == "yes")),
  gbsg2_small = function() with(gbsg2, data.frame(horThyes = as.numeric(horTh == "yes"), age = age,
                                                  tsize = tsize, pnodes = pnodes, progrec = progrec)),
  lung_basic = function() { ok <- outcome$lung(c("age", "sex", "ph.ecog"))$rows
                            lung[ok, c("age", "sex", "ph.ecog")] },
  lung_more = function() { cols <- c("age", "sex", "ph.ecog", "ph.karno", "wt.loss")
                           lung[outcome$lung(cols)$rows, cols] },
  veteran_full = function() with(veteran, data.frame(
    trt = trt, karno = karno, diagtime = diagtime, age = age, prior = prior,
    celltypesmallcell = as.numeric(celltype == "smallcell"), celltypeadeno = as.numeric(celltype == "adeno"),
    celltypelarge = as.numeric(celltype == "large"))),
  veteran_karno = function() data.frame(karno = veteran$karno),
  ties = function() ties[, c("x1", "x2")]
)
design_cols <- list(lung_basic = c("age", "sex", "ph.ecog"),
                    lung_more = c("age", "sex", "ph.ecog", "ph.karno", "wt.loss"))

response <- function(data, design) {
  if (data == "lung") outcome$lung(design_cols[[design]]) else outcome[[data]]()
}

# ---- Cox models ---------------------------------------------------------------
cox_case <- function(data, design, ties_method) {
  y <- response(data, design)
  X <- designs[[design]]()
  time <- y$time; event <- y$event
  fit <- coxph(Surv(time, event) ~ ., data = X, ties = ties_method)
  s <- summary(fit)
  zph <- cox.zph(fit, transform = "km", terms = FALSE)$table
  list(data = data, design = design, ties = ties_method, terms = arr(names(coef(fit))),
       coef = arr(coef(fit)), se = arr(sqrt(diag(vcov(fit)))), hr = arr(exp(coef(fit))),
       lower = arr(s$conf.int[, "lower .95"]), upper = arr(s$conf.int[, "upper .95"]),
       p = arr(s$coefficients[, "Pr(>|z|)"]), loglik = arr(fit$loglik),
       lr_chisq = 2 * diff(fit$loglik), lr_df = length(coef(fit)),
       concordance = unname(fit$concordance["concordance"]), n = fit$n, events = fit$nevent,
       iterations = fit$iter,
       ph_test = list(terms = arr(rownames(zph)), chisq = arr(zph[, "chisq"]), df = arr(zph[, "df"]),
                      p = arr(zph[, "p"])))
}
cox <- list(
  cox_case("gbsg2", "gbsg2_full", "efron"), cox_case("gbsg2", "gbsg2_full", "breslow"),
  cox_case("gbsg2", "gbsg2_poly", "efron"), cox_case("gbsg2", "gbsg2_horTh", "efron"),
  cox_case("lung", "lung_basic", "efron"), cox_case("lung", "lung_more", "breslow"),
  cox_case("veteran", "veteran_full", "efron"), cox_case("veteran", "veteran_full", "breslow"),
  cox_case("veteran", "veteran_karno", "efron"),
  cox_case("ties", "ties", "efron"), cox_case("ties", "ties", "breslow"))

# ---- logistic models ------------------------------------------------------------
logistic_case <- function(data, design, y) {
  X <- designs[[design]]()
  fit <- glm(y ~ ., data = X, family = binomial)
  ci <- confint.default(fit)
  list(data = data, design = design, terms = arr(names(coef(fit))), coef = arr(coef(fit)),
       se = arr(sqrt(diag(vcov(fit)))), odds_ratio = arr(exp(coef(fit))),
       lower = arr(exp(ci[, 1])), upper = arr(exp(ci[, 2])),
       p = arr(coef(summary(fit))[, "Pr(>|z|)"]), aic = AIC(fit), deviance = deviance(fit),
       null_deviance = fit$null.deviance, iterations = fit$iter)
}
lung_b <- outcome$lung(design_cols$lung_basic)
logistic <- list(
  logistic_case("gbsg2", "gbsg2_small", gbsg2$cens),
  logistic_case("gbsg2", "gbsg2_full", gbsg2$cens),
  logistic_case("lung", "lung_basic", lung_b$event),
  logistic_case("veteran", "veteran_full", veteran$status),
  logistic_case("ties", "ties", ties$y))

# ---- log-rank tests ---------------------------------------------------------------
logrank_case <- function(data, column, levels = NULL) {
  d <- switch(data, gbsg2 = gbsg2, lung = lung, veteran = veteran, ties = ties)
  y <- if (data == "lung") outcome$lung(column) else outcome[[data]]()     # lung: rows with the group known
  g <- d[[column]][y$rows]
  lev <- if (is.null(levels)) sort(unique(g)) else levels
  group <- factor(g, levels = lev)
  time <- y$time; event <- y$event
  s <- survdiff(Surv(time, event) ~ group)
  list(data = data, group = column, groups = arr(lev), given_order = !is.null(levels),
       n = arr(as.vector(s$n)), observed = arr(s$obs), expected = arr(s$exp), chisq = s$chisq,
       df = sum(s$exp > 0) - 1, p = pchisq(s$chisq, sum(s$exp > 0) - 1, lower.tail = FALSE))
}
logrank <- list(
  logrank_case("gbsg2", "horTh"), logrank_case("gbsg2", "tgrade", c("III", "I", "II")),
  logrank_case("gbsg2", "menostat"), logrank_case("veteran", "celltype"), logrank_case("veteran", "trt"),
  logrank_case("lung", "sex"), logrank_case("lung", "ph.karno"), logrank_case("ties", "grp"))

# ---- tests on samples (the samples are written out with the answers) ---------------
set.seed(20240514)
big_a <- round(rnorm(60, 10, 2), 6); big_b <- round(rnorm(55, 11, 3), 6)
small_a <- c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30)
small_b <- c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.16, 3.14, 1.26, 2.20)
tied_a <- c(3, 5, 5, 7, 8, 9, 9, 12); tied_b <- c(1, 2, 3, 3, 5, 6, 6)
split2 <- function(x, g) unname(split(x, factor(g, levels = sort(unique(g)))))
pairs <- list(
  gbsg2_age_by_horTh = split2(gbsg2$age, gbsg2$horTh),
  gbsg2_tsize_by_horTh = split2(gbsg2$tsize, gbsg2$horTh),
  veteran_karno_by_trt = split2(veteran$karno, veteran$trt),
  small_no_ties = list(small_a, small_b), small_with_ties = list(tied_a, tied_b),
  large_no_ties = list(big_a, big_b))
two_sample <- lapply(names(pairs), function(nm) {
  a <- pairs[[nm]][[1]]; b <- pairs[[nm]][[2]]
  welch <- t.test(a, b); student <- t.test(a, b, var.equal = TRUE)
  w <- suppressWarnings(wilcox.test(a, b))
  exact <- length(a) < 50 && length(b) < 50 && !any(duplicated(c(a, b)))
  list(name = nm, a = arr(a), b = arr(b),
       welch = list(t = unname(welch$statistic), df = unname(welch$parameter), p = welch$p.value),
       student = list(t = unname(student$statistic), df = unname(student$parameter), p = student$p.value),
       wilcoxon = list(w = unname(w$statistic), p = w$p.value, exact = exact),
       smd = (mean(a) - mean(b)) / sqrt((var(a) + var(b)) / 2))
})
groups_of <- list(
  gbsg2_age_by_tgrade = split2(gbsg2$age, gbsg2$tgrade),
  veteran_karno_by_celltype = unname(split(veteran$karno, factor(veteran$celltype,
                                           levels = c("squamous", "smallcell", "adeno", "large")))),
  gbsg2_pnodes_by_menostat = split2(gbsg2$pnodes, gbsg2$menostat),
  small_three = list(small_a, small_b, tied_a))
k_sample <- lapply(names(groups_of), function(nm) {
  gs <- groups_of[[nm]]
  y <- unlist(gs); g <- factor(rep(seq_along(gs), lengths(gs)))
  ow <- oneway.test(y ~ g, var.equal = TRUE)
  av <- summary(aov(y ~ g))[[1]]
  kw <- kruskal.test(gs)
  list(name = nm, groups = lapply(gs, arr),
       anova = list(f = unname(ow$statistic), df = arr(unname(ow$parameter)), p = ow$p.value,
                    aov_f = av[1, "F value"]),
       kruskal = list(h = unname(kw$statistic), df = unname(kw$parameter), p = kw$p.value))
})

# ---- tables: chisq.test, fisher.test, tableone's categorical SMD --------------------
tabulate2 <- function(x, g) unclass(table(factor(x, levels = sort(unique(x))), factor(g, levels = sort(unique(g)))))
tables <- list(
  gbsg2_horTh_by_cens = tabulate2(gbsg2$horTh, gbsg2$cens),
  gbsg2_menostat_by_horTh = tabulate2(gbsg2$menostat, gbsg2$horTh),
  gbsg2_tgrade_by_horTh = tabulate2(gbsg2$tgrade, gbsg2$horTh),
  veteran_celltype_by_trt = tabulate2(veteran$celltype, veteran$trt),
  small_2x2 = matrix(c(3, 1, 1, 3), 2, byrow = TRUE),
  zero_cell = matrix(c(0, 5, 6, 2), 2, byrow = TRUE),
  full_cell = matrix(c(7, 0, 2, 5), 2, byrow = TRUE),
  odds_below_one = matrix(c(12, 30, 25, 18), 2, byrow = TRUE),
  strong = matrix(c(1, 9, 11, 3), 2, byrow = TRUE),
  yates_below_half = matrix(c(5, 5, 5, 6), 2, byrow = TRUE),
  small_3x3 = matrix(c(3, 1, 2, 1, 5, 2, 2, 2, 6), 3, byrow = TRUE),
  small_2x3 = matrix(c(8, 2, 3, 1, 5, 4), 2, byrow = TRUE),
  small_3x4 = matrix(c(5, 3, 2, 1, 2, 4, 3, 6, 1, 2, 5, 7), 3, byrow = TRUE),
  medium_2x4 = matrix(c(20, 15, 10, 5, 10, 15, 20, 25), 2, byrow = TRUE))
table_cases <- lapply(names(tables), function(nm) {
  x <- tables[[nm]]
  f <- fisher.test(x)
  c0 <- suppressWarnings(chisq.test(x, correct = FALSE))
  c1 <- suppressWarnings(chisq.test(x, correct = TRUE))
  fisher <- list(p = f$p.value)
  if (all(dim(x) == 2)) fisher <- c(fisher, list(odds_ratio = unname(f$estimate), lower = f$conf.int[1],
                                                upper = f$conf.int[2]))
  list(name = nm, table = unname(x),
       chisq = list(chisq = unname(c0$statistic), df = unname(c0$parameter), p = c0$p.value),
       chisq_corrected = list(chisq = unname(c1$statistic), df = unname(c1$parameter), p = c1$p.value),
       fisher = fisher)
})

# tableone's StdDiffMulti on a groups x levels table (modules-smd.R, kaz-yos/tableone)
smd_multi <- function(tab) {
  props <- prop.table(tab, margin = 1)
  if (ncol(props) > 1) props <- props[, -1, drop = FALSE]
  covs <- lapply(1:2, function(i) { p <- props[i, ]; v <- -outer(p, p); diag(v) <- p * (1 - p); v })
  S <- (covs[[1]] + covs[[2]]) / 2
  d <- props[1, ] - props[2, ]
  sqrt(drop(t(d) %*% ginv(S) %*% d))
}
smd_tables <- list(
  gbsg2_tgrade_by_horTh = t(tabulate2(gbsg2$tgrade, gbsg2$horTh)),
  gbsg2_menostat_by_horTh = t(tabulate2(gbsg2$menostat, gbsg2$horTh)),
  veteran_celltype_by_trt = t(tabulate2(veteran$celltype, veteran$trt)),
  level_empty_in_one_group = matrix(c(10, 0, 5, 8, 4, 6), 2, byrow = TRUE))
smd_cases <- lapply(names(smd_tables), function(nm) {
  x <- smd_tables[[nm]]
  list(name = nm, table = unname(unclass(x)), smd = smd_multi(unclass(x)))
})

out <- list(
  meta = list(r = R.version.string, survival = as.character(packageVersion("survival")),
              script = "tests/r/make_models_fixture.R"),
  cox = cox, logistic = logistic, logrank = logrank, two_sample = two_sample, k_sample = k_sample,
  tables = table_cases, smd_categorical = smd_cases)
writeLines(js(out), "tests/fixtures/models_r.json")
cat("wrote tests/fixtures/models_r.json\n")
