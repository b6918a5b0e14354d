# R reference values on real myeloma data that R ships, for tests/test_r_myeloma.py.
#
# Run from the repository root:
#     Rscript tests/reference/myeloma_reference.R
# It writes two fixtures and reads them back, so that R and the tests see the same numbers:
#   myeloma_mayo.csv  survival::myeloma: 3,882 Mayo Clinic patients diagnosed 1947-1996, with
#                     left-truncated follow-up (entry = days from diagnosis to referral, futime =
#                     days from diagnosis to death or last contact); period = decade of diagnosis
#   myeloma_tt2.csv   survminer::myeloma: 256 patients of the Total Therapy 2 trial, a seven-level
#                     molecular_group, chr1q21_status (copies of 1q21) missing for 70, time in
#                     months; chr1q21_gain = 3 or more copies (empty where the status is)
# and R's answers to tests/reference/r_out/ with 15 significant digits:
#   myeloma_km_curve.csv    survfit(Surv(entry, futime, death) ~ 1): the whole curve with
#                           delayed entry, Greenwood SE, log and log-log bands
#   myeloma_km_medians.csv  medians and limits (quantile and print rules) overall and by group
#   myeloma_logrank.csv     survdiff by the molecular group and by 1q21 status
#   myeloma_cox.csv         coxph: (start, stop] on the Mayo data, the molecular group with
#                           sparse levels (also censored at 4 months, where two levels, the
#                           reference among them, have no event, and at 12, where one has one),
#                           complete-case 1q21 gain
#   myeloma_zph.csv         cox.zph of the (start, stop] fits
#   myeloma_mice_runs.csv   mice (logreg, m = 50) + pool, once per seed in 1..20: the spread of
#                           the pooled estimate over seeds is the imputation's Monte Carlo error
#   myeloma_mice_pool.csv   the seed-1 run pooled with dfcom = Inf (Rubin's 1987 df), with every
#                           imputation's coefficient and variance
#   myeloma_mice_imputations.csv  mice::nelsonaalen at each patient, and the seed-1 imputed
#                           values (one column per imputation, empty where the gain is observed)
#   myeloma_mice_model.csv  the imputation model: logistic MLE on the observed values, and the
#                           fit on augmented data whose coefficients mice draws from
#   myeloma_manifest.csv    md5 of every input, R and package versions

suppressPackageStartupMessages({library(survival); library(mice)})
options(warn = 1)

source(file.path("tests", "reference", "r_helpers.R"))  # ref, out, write_out, bind

# ---------------------------------------------------------------- fixtures
mayo <- survival::myeloma
mayo$period <- as.character(cut(mayo$year, c(0, 69, 79, 89, 99),
                                labels = c("1947-69", "1970-79", "1980-89", "1990-96")))
write.csv(mayo, file.path(ref, "myeloma_mayo.csv"), row.names = FALSE)
tt2 <- get(data(myeloma, package = "survminer", envir = environment()))
tt2 <- data.frame(lapply(tt2, function(x) if (is.factor(x)) as.character(x) else x), stringsAsFactors = FALSE)
tt2$chr1q21_gain <- ifelse(is.na(tt2$chr1q21_status), NA, as.integer(tt2$chr1q21_status != "2 copies"))
write.csv(tt2, file.path(ref, "myeloma_tt2.csv"), row.names = FALSE, na = "")

inputs <- c(myeloma_mayo = file.path(ref, "myeloma_mayo.csv"), myeloma_tt2 = file.path(ref, "myeloma_tt2.csv"))
mayo <- read.csv(inputs[["myeloma_mayo"]], stringsAsFactors = FALSE)
tt2 <- read.csv(inputs[["myeloma_tt2"]], stringsAsFactors = FALSE, na.strings = "")

# ---------------------------------------------------------------- Kaplan-Meier
mayo_fit <- function(d, ct = "log") survfit(Surv(entry, futime, death) ~ 1, data = d, conf.type = ct)
fit_log <- mayo_fit(mayo)
fit_ll <- mayo_fit(mayo, "log-log")
curve <- data.frame(time = fit_log$time, n_risk = fit_log$n.risk, n_event = fit_log$n.event,
                    n_censor = fit_log$n.censor, surv = fit_log$surv, std_err = fit_log$std.err,
                    lower = fit_log$lower, upper = fit_log$upper,
                    lower_loglog = fit_ll$lower, upper_loglog = fit_ll$upper)

km_rows <- function(dataset, group, fit) {
  bind(lapply(c("log", "log-log", "plain"), function(ct) {
    f <- update(fit, conf.type = ct)
    q <- quantile(f, 0.5)
    tab <- summary(f)$table
    data.frame(dataset = dataset, group = group, conf_type = ct, rule = c("quantile", "print"),
               n = f$n, events = sum(f$n.event),
               median = c(unname(q$quantile), tab[["median"]]),
               lcl = c(unname(q$lower), tab[["0.95LCL"]]), ucl = c(unname(q$upper), tab[["0.95UCL"]]))
  }))
}
km <- list(km_rows("mayo", "all", survfit(Surv(entry, futime, death) ~ 1, data = mayo)),
           km_rows("tt2", "all", survfit(Surv(time, event) ~ 1, data = tt2)))
for (v in sort(unique(mayo$period))) {
  d <- mayo[mayo$period == v, ]
  km[[length(km) + 1]] <- km_rows("mayo", paste0("period=", v), survfit(Surv(entry, futime, death) ~ 1, data = d))
}
for (v in sort(unique(tt2$molecular_group))) {
  d <- tt2[tt2$molecular_group == v, ]
  km[[length(km) + 1]] <- km_rows("tt2", paste0("molecular_group=", v), survfit(Surv(time, event) ~ 1, data = d))
}

# ---------------------------------------------------------------- log-rank
lr_row <- function(group, d) {
  s <- survdiff(as.formula(paste("Surv(time, event) ~", group)), data = d)
  data.frame(dataset = "tt2", group = group, n = sum(s$n), chisq = s$chisq, df = length(s$n) - 1, p = s$pvalue)
}
logrank <- bind(list(lr_row("molecular_group", tt2), lr_row("chr1q21_status", tt2)))

# ---------------------------------------------------------------- Cox
# Rows labelled (covariate, level, reference) as compendium.stats.survival does: text columns ->
# one row per non-reference level (first in sorted order), 0/1 flags -> "1" vs "0", numbers ->
# "per unit" vs "".
cox_rows <- function(dataset, model, d, surv, covs, ties = "efron") {
  lab <- bind(lapply(covs, function(cv) {
    x <- d[[cv]]
    if (is.character(x)) {
      lv <- sort(unique(na.omit(x)))
      d[[cv]] <<- factor(x, levels = lv)
      data.frame(covariate = cv, level = lv[-1], reference = lv[1], term = paste0(cv, lv[-1]))
    } else if (all(na.omit(x) %in% c(0, 1))) {
      data.frame(covariate = cv, level = "1", reference = "0", term = cv)
    } else data.frame(covariate = cv, level = "per unit", reference = "", term = cv)
  }))
  fit <- coxph(as.formula(paste(surv, "~", paste(covs, collapse = " + "))), data = d, ties = ties)
  s <- summary(fit)
  cf <- s$coefficients[lab$term, , drop = FALSE]
  ci <- s$conf.int[lab$term, , drop = FALSE]
  list(fit = fit,
       rows = data.frame(dataset = dataset, model = model, ties = ties, lab,
                         coef = unname(cf[, "coef"]), se = unname(cf[, "se(coef)"]),
                         hr = unname(ci[, "exp(coef)"]), lcl = unname(ci[, "lower .95"]),
                         ucl = unname(ci[, "upper .95"]), p = unname(cf[, "Pr(>|z|)"]),
                         n = fit$n, events = fit$nevent, loglik_null = fit$loglik[1], loglik = fit$loglik[2],
                         lr_chisq = unname(s$logtest["test"]), wald_chisq = fit$wald.test,
                         score_chisq = unname(s$sctest["test"]), iter = fit$iter))
}
censor_at <- function(d, months) {
  d$event <- ifelse(d$time <= months, d$event, 0L)
  d$time <- pmin(d$time, months)
  d
}
counting <- "Surv(entry, futime, death)"
cox <- list()
zph <- list()
for (ties in c("efron", "breslow")) {
  for (cv in c("year", "period")) {
    r <- cox_rows("mayo", cv, mayo, counting, cv, ties)
    cox[[length(cox) + 1]] <- r$rows
    if (ties == "efron") for (tr in c("km", "rank", "identity")) {
      z <- cox.zph(r$fit, transform = tr)
      zph[[length(zph) + 1]] <- data.frame(dataset = "mayo", model = cv, transform = tr,
                                           covariate = rownames(z$table), chisq = z$table[, "chisq"],
                                           df = z$table[, "df"], p = z$table[, "p"])
    }
  }
  cox[[length(cox) + 1]] <- cox_rows("tt2", "molecular_group", tt2, "Surv(time, event)", "molecular_group", ties)$rows
  for (months in c(4, 12))
    cox[[length(cox) + 1]] <- cox_rows(paste0("tt2_censored", months), "molecular_group", censor_at(tt2, months),
                                       "Surv(time, event)", "molecular_group", ties)$rows
  cox[[length(cox) + 1]] <- cox_rows("tt2", "gain_group_cc", tt2, "Surv(time, event)",
                                     c("chr1q21_gain", "molecular_group"), ties)$rows
}

# ---------------------------------------------------------------- multiple imputation
# The analysis model: Cox of survival on 1q21 gain and the molecular group. The imputation model
# (White & Royston 2009): logistic regression of the gain on the molecular group, the event
# indicator and the Nelson-Aalen cumulative hazard; time itself is not a predictor.
# One incomplete variable: one iteration is already a draw from the observed-data posterior.
mi_data <- data.frame(chr1q21_gain = factor(tt2$chr1q21_gain, levels = c(0, 1)),
                      molecular_group = factor(tt2$molecular_group), event = tt2$event,
                      na = nelsonaalen(tt2, time, event), time = tt2$time)
pred <- make.predictorMatrix(mi_data)
pred[, "time"] <- 0
meth <- c(chr1q21_gain = "logreg", molecular_group = "", event = "", na = "", time = "")
M <- 50
SEEDS <- 1:20
mi_run <- function(seed) {
  imp <- mice(mi_data, m = M, method = meth, predictorMatrix = pred, maxit = 1, seed = seed, printFlag = FALSE)
  fits <- with(imp, coxph(Surv(time, event) ~ as.integer(as.character(chr1q21_gain)) + molecular_group))
  list(imp = imp, fits = fits, pool = pool(fits, dfcom = Inf))
}
terms_of <- function(p) {
  term <- as.character(p$pooled$term)
  ifelse(grepl("chr1q21_gain", term), "chr1q21_gain", sub("^molecular_group", "molecular_group=", term))
}
runs <- lapply(SEEDS, function(seed) {
  p <- mi_run(seed)$pool
  data.frame(seed = seed, m = M, term = terms_of(p), qbar = p$pooled$estimate, ubar = p$pooled$ubar,
             b = p$pooled$b, t = p$pooled$t, df = p$pooled$df, lambda = p$pooled$lambda)
})
first <- mi_run(SEEDS[1])
per_imp <- bind(lapply(seq_len(M), function(i) {
  f <- first$fits$analyses[[i]]
  data.frame(imputation = i, term = terms_of(first$pool), coef = unname(coef(f)), var = unname(diag(vcov(f))))
}))
sp <- summary(first$pool, conf.int = TRUE)
pool_first <- data.frame(seed = SEEDS[1], m = M, term = terms_of(first$pool), qbar = first$pool$pooled$estimate,
                         ubar = first$pool$pooled$ubar, b = first$pool$pooled$b, t = first$pool$pooled$t,
                         df = first$pool$pooled$df, lambda = first$pool$pooled$lambda,
                         lcl = sp[["2.5 %"]], ucl = sp[["97.5 %"]], p = sp$p.value)
# the imputation model itself: the logistic MLE on the observed values, and mice.impute.logreg's
# fit (glm.fit on data augmented against perfect prediction), whose draws mice takes
obs <- !is.na(tt2$chr1q21_gain)
x <- model.matrix(~ molecular_group + event + na, mi_data)[, -1]
mle <- summary(glm(tt2$chr1q21_gain[obs] ~ x[obs, ], family = binomial))$coefficients
aug <- mice:::augment(mi_data$chr1q21_gain, obs, x, !obs)
aug_fit <- summary.glm(glm.fit(cbind(1, as.matrix(aug$x))[aug$ry, ], as.integer(as.character(aug$y[aug$ry])),
                               weights = aug$w[aug$ry], family = quasibinomial(link = logit)))
model_terms <- c("(Intercept)", sub("^molecular_group", "molecular_group=", colnames(x)[1:6]), "event", "nelson_aalen")
logistic <- data.frame(term = model_terms, mle = unname(mle[, "Estimate"]), mle_se = unname(mle[, "Std. Error"]),
                       mice = unname(aug_fit$coefficients[, 1]), mice_se = sqrt(diag(aug_fit$cov.unscaled)))
missing_rows <- which(is.na(tt2$chr1q21_gain))
imputed <- data.frame(row = seq_len(nrow(tt2)), nelson_aalen = mi_data$na, sapply(seq_len(M), function(i) {
  v <- rep(NA_integer_, nrow(tt2))
  v[missing_rows] <- as.integer(as.character(first$imp$imp$chr1q21_gain[[i]]))
  v
}))
names(imputed)[-(1:2)] <- paste0("imp", seq_len(M))

# ---------------------------------------------------------------- write
write_out(curve, "myeloma_km_curve.csv")
write_out(bind(km), "myeloma_km_medians.csv")
write_out(logrank, "myeloma_logrank.csv")
write_out(bind(cox), "myeloma_cox.csv")
write_out(bind(zph), "myeloma_zph.csv")
write_out(bind(runs), "myeloma_mice_runs.csv")
write_out(merge(pool_first, per_imp, by = "term")[, c(names(pool_first), "imputation", "coef", "var")],
          "myeloma_mice_pool.csv")
write_out(imputed, "myeloma_mice_imputations.csv")
write_out(logistic, "myeloma_mice_model.csv")
write_out(data.frame(input = names(inputs), path = unname(inputs), md5 = unname(tools::md5sum(inputs)),
                     r_version = paste(R.version$major, R.version$minor, sep = "."),
                     survival_version = as.character(packageVersion("survival")),
                     mice_version = as.character(packageVersion("mice")),
                     survminer_version = as.character(packageVersion("survminer"))),
          "myeloma_manifest.csv")
